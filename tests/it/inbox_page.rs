//! The craftsman's inbox page, as a phone's browser uses it: sign in with the
//! token, see the orders, open one; nobody else's.

use reqwest::blocking::Client;
use reqwest::redirect::Policy;
use serde_json::json;

use crate::harness::{Gateway, fixture, json_of};

pub(crate) fn browser() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// The page's text, after checking its status and the headers every page has.
pub(crate) fn html(res: reqwest::blocking::Response, status: u16) -> String {
    assert_eq!(res.status().as_u16(), status);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    res.text().unwrap()
}

/// Signs in with `token`; returns the session cookie (`name=value`) to send.
fn sign_in(browser: &Client, gw: &Gateway, token: &str) -> String {
    let signed_in = browser
        .post(gw.url("/inbox/login"))
        .form(&[("token", token)])
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303, "signing in");
    signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// A logout's answer: back to the sign-in form, and the browser told to forget
/// the cookie.
#[track_caller]
pub(crate) fn assert_logged_out(res: reqwest::blocking::Response) {
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
}

#[test]
fn a_craftsman_signs_in_and_sees_only_their_orders() {
    let gw = Gateway::start();
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let token = jaya["token"].as_str().unwrap().to_owned();
    gw.create_craftsman(json!({"id": "sinar", "name": "Sinar", "language": "en"}));
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    gw.route("mitra-otoparts", "PBG-018", "sinar");
    let mut order: serde_json::Value =
        serde_json::from_slice(&fixture("tests/fixtures/canonical-every-field.json")).unwrap();
    let mine = json_of(
        gw.post_order(
            &key,
            "application/json",
            serde_json::to_vec(&order).unwrap(),
        ),
        201,
    );
    let mine = mine["orders"][0]["id"].as_str().unwrap().to_owned();
    order["supplier"]["code"] = json!("PBG-018");
    order["buyer_order_number"] = json!("PO-SINAR-1");
    let theirs = json_of(
        gw.post_order(
            &key,
            "application/json",
            serde_json::to_vec(&order).unwrap(),
        ),
        201,
    );
    let theirs = theirs["orders"][0]["id"].as_str().unwrap().to_owned();

    let browser = browser();
    let form = html(browser.get(gw.url("/inbox")).send().unwrap(), 200);
    assert!(
        form.contains("action=\"/inbox/login\"") && form.contains("type=\"password\""),
        "{form}"
    );
    assert!(form.contains("name=\"viewport\""), "{form}");
    assert!(!form.contains("<script"), "no script needed");

    let refused = browser
        .post(gw.url("/inbox/login"))
        .form(&[("token", "jbc_wrong")])
        .send()
        .unwrap();
    let refused = html(refused, 401);
    assert!(!refused.contains("jbc_wrong"), "a token is never echoed");

    let signed_in = browser
        .post(gw.url("/inbox/login"))
        .form(&[("token", token.as_str())])
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    assert_eq!(signed_in.headers()["location"], "/inbox");
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/inbox"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let list = html(
        browser
            .get(gw.url("/inbox"))
            .header("cookie", &session)
            .send()
            .unwrap(),
        200,
    );
    assert!(list.contains("PO-JSON-0001"), "{list}");
    assert!(list.contains(&format!("href=\"/inbox/{mine}\"")), "{list}");
    // The buyer is named as registered, never as its document names itself: a
    // document can claim to come from any company.
    let document_buyer = order["buyer"]["name"].as_str().unwrap();
    assert!(list.contains("Buyer mitra-otoparts"), "{list}");
    assert!(!list.contains(document_buyer), "{list}");
    assert!(
        !list.contains("PO-SINAR-1"),
        "another craftsman's order: {list}"
    );
    let one = html(
        browser
            .get(gw.url(&format!("/inbox/{mine}")))
            .header("cookie", &session)
            .send()
            .unwrap(),
        200,
    );
    assert!(one.contains("PO-JSON-0001"), "{one}");
    assert!(one.contains("Buyer mitra-otoparts"), "{one}");
    let other = html(
        browser
            .get(gw.url(&format!("/inbox/{theirs}")))
            .header("cookie", &session)
            .send()
            .unwrap(),
        404,
    );
    let unknown = html(
        browser
            .get(gw.url("/inbox/ord_nothing"))
            .header("cookie", &session)
            .send()
            .unwrap(),
        404,
    );
    assert_eq!(other, unknown, "another's order looks like no order at all");

    // A buyer's key is no way in.
    let as_buyer = html(
        browser
            .get(gw.url("/inbox"))
            .bearer_auth(&key)
            .send()
            .unwrap(),
        401,
    );
    assert!(!as_buyer.contains("PO-JSON-0001"));
    assert_logged_out(
        browser
            .post(gw.url("/inbox/logout"))
            .header("cookie", &session)
            .send()
            .unwrap(),
    );
    assert!(!gw.logs().contains(&token), "the token is never logged");
}

/// A small PDF drawing, embedded in the order as buyers' UBL documents embed theirs.
const DRAWING_BASE64: &str =
    "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCg==";

/// A v2 order with what a workshop machines a part from: the item's name apart
/// from its description, its specs, the drawing, a delivery window, a price per
/// 100 pieces and a discount; long enough words to test a phone's width.
fn order_with_specs_and_drawing() -> serde_json::Value {
    json!({
        "version": "2",
        "buyer_order_number": "PO-MO-2026-SPEC-1",
        "issue_date": "2026-11-27",
        "currency": "IDR",
        "source": {"format": "canonical-json", "syntax": "JSON"},
        "supplier": {"code": "PBG-017"},
        "delivery": {"earliest": "2026-12-14", "latest": "2026-12-18",
                     "location": {"address": {"street": "Jl. Gudang Timur 8", "city": "Bekasi",
                                              "postal_code": "17530", "country": "ID"}}},
        "lines": [{
            "line_number": "1",
            "item": {
                "name": "Knalpot racing 125cc stainless",
                "description": "Leher 32 mm, silencer glasswool, finishing hitam doff",
                "ids": [{"role": "buyer", "value": "MO-EXH-125-RACING-STAINLESS-304-BLACK"},
                        {"role": "standard", "scheme": "GTIN", "value": "8991234567890"}],
                "properties": [{"name": "Bahan", "value": "SS304"},
                               {"name": "Tebal", "value": "1.2", "unit": "MMT"}],
                "documents": [{"id": "GB-KN-125", "type": "drawing", "revision": "C",
                               "uri": "https://plm.mitra-otoparts.example/drawings/GB-KN-125-rev-C-knalpot-racing.pdf"},
                              {"id": "GB-KN-125-SKETSA", "type": "drawing",
                               "filename": "sketsa-leher-knalpot-racing-125cc-stainless-rev-C.pdf",
                               "mime_type": "application/pdf",
                               "content_base64": DRAWING_BASE64}]
            },
            "quantity": "400",
            "unit": "H87",
            "price": {"amount": "18500000.00", "base_quantity": "100"},
            "line_total": "74000000.00",
            "allowances_charges": [{"kind": "allowance", "percent": "5", "reason": "diskon volume"}]
        }]
    })
}

/// Issue 14: the craftsman sees the item's name, its specs and its drawing on a
/// 390 px wide phone, in a real browser, and nothing runs off the screen.
#[test]
fn on_a_phone_the_order_shows_the_item_its_specs_and_drawing_and_fits() {
    let gw = Gateway::start();
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Knalpot Jaya"}));
    let token = jaya["token"].as_str().unwrap().to_owned();
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    let accepted = json_of(
        gw.post_order(
            &key,
            "application/json",
            serde_json::to_vec(&order_with_specs_and_drawing()).unwrap(),
        ),
        201,
    );
    let order_id = accepted["orders"][0]["id"].as_str().unwrap().to_owned();

    let phone = crate::browser::Phone::start();
    phone.open(&gw.url("/inbox"));
    phone.type_into("#token", &token);
    phone.click("button.primary");
    phone.text_with("PO-MO-2026-SPEC-1");
    assert_eq!(
        phone.overflowing(),
        Vec::<String>::new(),
        "the list, at 390 px"
    );

    phone.open(&gw.url(&format!("/inbox/{order_id}")));
    let page = phone.text();
    for expected in [
        "Knalpot racing 125cc stainless",
        "Leher 32 mm, silencer glasswool, finishing hitam doff",
        "Spesifikasi: Bahan: SS304 · Tebal: 1.2 mm",
        "GB-KN-125 rev. C",
        "GTIN 8991234567890",
        "Kirim antara\t14 Desember 2026 – 18 Desember 2026",
        "IDR 18.500.000,00 / 100 buah",
        "Potongan: 5% (diskon volume)",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in:\n{page}");
    }
    // The embedded drawing is a download on the page, named and sized.
    assert!(
        page.contains("sketsa-leher-knalpot-racing-125cc-stainless-rev-C"),
        "the embedded file is listed:\n{page}"
    );
    assert_eq!(
        phone.overflowing(),
        Vec::<String>::new(),
        "the order, at 390 px"
    );

    // Downloaded with the session, it is the buyer's bytes, as an attachment that is
    // never shown in the page's origin; nobody else gets it.
    let browser = browser();
    let session = sign_in(&browser, &gw, &token);
    let file_url = gw.url(&format!("/inbox/{order_id}/files/0"));
    let file = browser
        .get(&file_url)
        .header("cookie", &session)
        .send()
        .unwrap();
    assert_eq!(file.status().as_u16(), 200);
    let headers = file.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"sketsa-leher-knalpot-racing-125cc-stainless-rev-C.pdf\""
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    use base64::Engine as _;
    let drawing = base64::engine::general_purpose::STANDARD
        .decode(DRAWING_BASE64)
        .unwrap();
    assert_eq!(file.bytes().unwrap().to_vec(), drawing);
    // Without a session: back to the sign-in form. No second file: not found.
    let anonymous = browser.get(&file_url).send().unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    let missing = browser
        .get(gw.url(&format!("/inbox/{order_id}/files/1")))
        .header("cookie", &session)
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    // Another craftsman: the order is not theirs.
    let other = gw.create_craftsman(json!({"id": "lain", "name": "Bengkel Lain"}));
    let other_session = sign_in(&browser, &gw, other["token"].as_str().unwrap());
    let refused = browser
        .get(&file_url)
        .header("cookie", &other_session)
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 404);
}

/// Issue 10: on a 390 px phone, in a real browser, the craftsman answers an order
/// from its page with one hand: changes a line's quantity, then rejects it with a
/// reason; the page fits the screen at every step (the order's lines, the folded
/// forms open), and the buyer reads both answers.
#[test]
fn on_a_phone_the_craftsman_answers_the_order_and_nothing_runs_off_the_screen() {
    let gw = Gateway::start();
    let key = gw.create_buyer("mitra-otoparts", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Knalpot Jaya"}));
    let token = jaya["token"].as_str().unwrap().to_owned();
    gw.route("mitra-otoparts", "PBG-017", "jaya");
    // The order with every field (long codes, many lines of facts), and the one
    // with specs and a drawing.
    let every_field = json_of(
        gw.post_order(
            &key,
            "application/json",
            fixture("tests/fixtures/canonical-every-field.json"),
        ),
        201,
    );
    let order_id = every_field["orders"][0]["id"].as_str().unwrap().to_owned();
    let specs = json_of(
        gw.post_order(
            &key,
            "application/json",
            serde_json::to_vec(&order_with_specs_and_drawing()).unwrap(),
        ),
        201,
    );
    let specs_id = specs["orders"][0]["id"].as_str().unwrap().to_owned();
    // Words no line break can split: a number, codes and names as some ERPs write
    // them.
    let mut long = order_with_specs_and_drawing();
    long["buyer_order_number"] = json!("PO-MITRAOTOPARTS-CIKARANG-2026-11-27-000000001127-REV03");
    long["lines"][0]["line_number"] = json!("000010-0000000020-0000000030");
    long["lines"][0]["item"]["name"] =
        json!("KNALPOT-RACING-125CC-STAINLESS-SS304-LEHER32MM-SILENCER-GLASSWOOL-HITAMDOFF");
    long["lines"][0]["quantity"] = json!("123456789012.123456");
    long["lines"][0]["price"] = json!({"amount": "1234567890123.45", "base_quantity": "1000000"});
    long["lines"][0]["line_total"] = json!("152415787532388367.50");
    let long = json_of(
        gw.post_order(&key, "application/json", serde_json::to_vec(&long).unwrap()),
        201,
    );
    let long_id = long["orders"][0]["id"].as_str().unwrap().to_owned();

    let phone = crate::browser::Phone::start();
    phone.open(&gw.url("/inbox"));
    phone.type_into("#token", &token);
    phone.click("button.primary");
    phone.text_with("PO-MO-2026-SPEC-1");
    assert_eq!(
        phone.overflowing(),
        Vec::<String>::new(),
        "the list at 390 px"
    );
    for id in [&long_id, &specs_id, &order_id] {
        phone.open(&gw.url(&format!("/inbox/{id}")));
        let page = phone.text_with("Jawaban Anda");
        assert!(page.contains("Anda belum menjawab pesanan ini."), "{page}");
        assert_eq!(
            phone.overflowing(),
            Vec::<String>::new(),
            "order {id} at 390 px"
        );
        // The folded forms, open, fit too.
        phone.click("#change summary");
        phone.click("#reject summary");
        assert_eq!(
            phone.overflowing(),
            Vec::<String>::new(),
            "order {id}'s answer forms at 390 px"
        );
    }

    // Accept with a change to the first line, from the phone.
    phone.type_into("#q0", "8");
    phone.type_into("#note", "Bahan baru datang minggu depan");
    phone.click("#change button.primary");
    let page = phone.text_with("Jawaban Anda sudah dikirim ke pembeli.");
    assert!(page.contains("Diterima dengan perubahan"), "{page}");
    assert!(page.contains("Bahan baru datang minggu depan"), "{page}");
    assert_eq!(
        phone.overflowing(),
        Vec::<String>::new(),
        "after the answer"
    );
    // A rejection needs a reason: the browser asks for it before posting.
    phone.click("#reject summary");
    phone.click("#reject button.danger");
    assert!(!phone.text().contains("Ditolak ·"));
    phone.type_into("#why", "Mesin bubut rusak");
    phone.click("#reject button.danger");
    let page = phone.text_with("Penolakan tidak bisa diubah.");
    assert!(page.contains("Ditolak"), "{page}");
    assert!(page.contains("Mesin bubut rusak"), "{page}");
    assert_eq!(
        phone.overflowing(),
        Vec::<String>::new(),
        "after the rejection"
    );

    let order = json_of(gw.get(&key, &format!("/v1/orders/{order_id}")), 200);
    assert_eq!(order["response"], "rejected");
    let responses = order["responses"].as_array().unwrap();
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0]["status"], "accepted_with_changes");
    assert_eq!(responses[0]["via"], "inbox");
    assert_eq!(responses[0]["lines"][0]["quantity"], "8");
    assert_eq!(responses[0]["reason"], "Bahan baru datang minggu depan");
    assert_eq!(responses[1]["reason"], "Mesin bubut rusak");

    // A post from another site's page is refused, and changes nothing; so is one
    // for another craftsman's order.
    let browser = browser();
    let session = sign_in(&browser, &gw, &token);
    let forged = browser
        .post(gw.url(&format!("/inbox/{specs_id}/response")))
        .header("cookie", &session)
        .header("origin", "https://evil.example")
        .form(&[("status", "accepted")])
        .send()
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    let lain = gw.create_craftsman(json!({"id": "lain", "name": "Bengkel Lain"}));
    let other = sign_in(&browser, &gw, lain["token"].as_str().unwrap());
    let refused = browser
        .post(gw.url(&format!("/inbox/{specs_id}/response")))
        .header("cookie", &other)
        .form(&[("status", "accepted")])
        .send()
        .unwrap();
    assert_eq!(refused.status().as_u16(), 404);
    let untouched = json_of(gw.get(&key, &format!("/v1/orders/{specs_id}")), 200);
    assert_eq!(untouched["response"], serde_json::Value::Null);
    // The form's accept, as the page posts it.
    let accepted = browser
        .post(gw.url(&format!("/inbox/{specs_id}/response")))
        .header("cookie", &session)
        .form(&[("status", "accepted")])
        .send()
        .unwrap();
    assert_eq!(accepted.status().as_u16(), 303);
    let answered = json_of(gw.get(&key, &format!("/v1/orders/{specs_id}")), 200);
    assert_eq!(answered["response"], "accepted");
}

/// Issue 10's loop through the page: an EDIFACT buyer's ORDERS, answered on a
/// 390 px phone in a real browser with a changed quantity, reaches the buyer's
/// callback as an `order.response` that `standardwebhooks` verifies, carrying an
/// ORDRSP that pydifact reads back. A full-page screenshot of the order with its
/// answer forms open is exactly the phone's width: nothing runs off the screen.
#[test]
fn an_answer_from_the_phone_reaches_an_edifact_buyer_as_an_ordrsp() {
    use crate::browser::{PIXEL_RATIO, Phone, png_size};
    use crate::delivery::WAIT;
    use crate::rendered_responses::{
        FIXTURE_NUMBER, buyer_on, document, edifact_segments, read_back,
    };

    let (gw, receiver, key, token) = buyer_on("edifact-orders");
    let posted = json_of(
        gw.post_order(
            &key,
            "application/edifact",
            fixture("plugins/edifact-orders/fixtures/edifact-d96a-10-lines.edi"),
        ),
        201,
    );
    let order_id = posted["orders"][0]["id"].as_str().unwrap().to_owned();

    let phone = Phone::start();
    phone.open(&gw.url("/inbox"));
    phone.type_into("#token", &token);
    phone.click("button.primary");
    phone.text_with(FIXTURE_NUMBER);
    phone.open(&gw.url(&format!("/inbox/{order_id}")));
    phone.text_with("Jawaban Anda");
    phone.click("#change summary");
    phone.click("#reject summary");
    let screenshot = phone.full_page_screenshot();
    let (width, height) = png_size(&screenshot);
    assert_eq!(
        width,
        390 * PIXEL_RATIO,
        "the order with its answer forms open, at 390 px: {:?}",
        phone.overflowing()
    );
    assert!(
        height > 844 * PIXEL_RATIO,
        "the whole page, ten lines of forms long, not just the screen: {height}"
    );

    // Line 2 (40 pieces) becomes 35.
    phone.type_into("#q1", "35");
    phone.type_into("#note", "Stok knalpot NMAX tinggal 35");
    phone.click("#change button.primary");
    let page = phone.text_with("Jawaban Anda sudah dikirim ke pembeli.");
    assert!(page.contains("Diterima dengan perubahan"), "{page}");

    let records = receiver.wait_for(
        |r| {
            r.iter()
                .any(|r| r["verified"] == true && r["status"] == 204)
        },
        WAIT,
    );
    let event = &records
        .iter()
        .find(|r| r["verified"] == true)
        .expect("a verified event")["body"];
    assert_eq!(event["type"], "order.response");
    assert_eq!(event["data"]["order_id"], order_id.as_str());
    assert_eq!(event["data"]["response"]["via"], "inbox");
    let text = document(&event["data"], "application/edifact");
    let read = read_back("edifact", &text);
    let message = &read["messages"][0];
    assert_eq!(message["type"], "ORDRSP", "{text}");
    let bgm = edifact_segments(message, "BGM")[0];
    assert_eq!(bgm[0], "231");
    assert_eq!(bgm[2], "4", "accepted with changes: {text}");
    assert_eq!(
        edifact_segments(message, "RFF")[0],
        &json!([["ON", FIXTURE_NUMBER]])
    );
    let lin = edifact_segments(message, "LIN");
    assert_eq!(lin.len(), 1, "only the changed line: {text}");
    assert_eq!(lin[0][0], "2");
    assert_eq!(lin[0][1], "3", "changed");
    let qty = edifact_segments(message, "QTY")[0];
    assert_eq!(
        qty[0].as_array().unwrap()[0..2],
        [json!("21"), json!("35")],
        "{text}"
    );
    let ftx = edifact_segments(message, "FTX");
    assert!(
        ftx.iter().any(|f| f[3] == "Stok knalpot NMAX tinggal 35"),
        "{text}"
    );
}
