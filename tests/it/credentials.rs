//! Credentials can be taken back (issue 8): a rotated or revoked buyer key, a
//! craftsman token and the inbox page sessions it opened are refused at once; a
//! logged-out or expired cookie opens nothing; the cookie never holds the token;
//! login and logout take posts only from the gateway's own page; SIGHUP puts a new
//! admin token in force; a weak admin token is warned about and `--demo` stays on
//! loopback.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::json;

use crate::harness::{Gateway, Options, expect_problem, json_of};
use crate::inbox_page::{assert_logged_out, browser, html};

/// How long anything here may take to happen.
const WAIT: Duration = Duration::from_secs(20);

/// Signs in on the inbox page with `token`; returns the `Set-Cookie` header.
fn sign_in(gw: &Gateway, token: &str) -> String {
    let res = browser()
        .post(gw.url("/inbox/login"))
        .header("origin", &gw.base)
        .form(&[("token", token)])
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 303, "{}", res.text().unwrap());
    res.headers()["set-cookie"].to_str().unwrap().to_owned()
}

/// `name=value` of a `Set-Cookie`, as the browser sends it back.
fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

/// `GET /inbox` with the cookie.
fn inbox_with_cookie(gw: &Gateway, cookie: &str) -> Response {
    browser()
        .get(gw.url("/inbox"))
        .header("cookie", cookie)
        .send()
        .unwrap()
}

fn api_inbox(gw: &Gateway, token: &str) -> Response {
    gw.get(token, "/v1/inbox")
}

#[test]
fn a_rotated_buyer_key_is_refused_at_once_and_a_revoked_one_until_rotated() {
    let gw = Gateway::start();
    let old = gw.create_buyer("mitra", "canonical-json", json!({}));
    json_of(gw.get(&old, "/v1/orders"), 200);

    let rotated = json_of(
        gw.admin(Method::POST, "/v1/admin/buyers/mitra/key", None),
        200,
    );
    assert_eq!(rotated["buyer_id"], "mitra");
    let new = rotated["api_key"].as_str().unwrap().to_owned();
    assert!(new.starts_with("jbk_") && new != old, "{rotated}");
    let refused = expect_problem(gw.get(&old, "/v1/orders"), 401);
    assert_eq!(refused["detail"], "the API key is not valid");
    expect_problem(gw.post_order(&old, "application/json", "{}"), 401);
    gw.post_canonical_order(&new, "PO-NEW-KEY", "PBG-017");

    let revoked = gw.admin(Method::DELETE, "/v1/admin/buyers/mitra/key", None);
    assert_eq!(revoked.status().as_u16(), 204);
    expect_problem(gw.get(&new, "/v1/orders"), 401);
    // The buyer and its orders stay; only the key is gone.
    assert_eq!(gw.admin_get("/v1/admin/buyers/mitra")["id"], "mitra");
    let again = json_of(
        gw.admin(Method::POST, "/v1/admin/buyers/mitra/key", None),
        200,
    );
    let again = again["api_key"].as_str().unwrap();
    let orders = json_of(gw.get(again, "/v1/orders"), 200);
    assert_eq!(orders["orders"][0]["buyer_order_number"], "PO-NEW-KEY");
    expect_problem(gw.get(&new, "/v1/orders"), 401);

    expect_problem(
        gw.admin(Method::POST, "/v1/admin/buyers/nobody/key", None),
        404,
    );
    expect_problem(
        gw.admin(Method::DELETE, "/v1/admin/buyers/nobody/key", None),
        404,
    );
    // Only the admin may do it.
    expect_problem(
        gw.client
            .post(gw.url("/v1/admin/buyers/mitra/key"))
            .bearer_auth(again)
            .send()
            .unwrap(),
        401,
    );
    let logs = gw.logs();
    for key in [&old, &new, again] {
        assert!(!logs.contains(key), "a key is never logged");
    }
}

#[test]
fn a_revoked_craftsman_token_closes_the_api_and_the_inbox_sessions_at_once() {
    let gw = Gateway::start();
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let token = jaya["token"].as_str().unwrap().to_owned();
    json_of(api_inbox(&gw, &token), 200);

    let set_cookie = sign_in(&gw, &token);
    assert!(
        !set_cookie.contains(&token),
        "the cookie never holds the token: {set_cookie}"
    );
    let session = cookie_pair(&set_cookie);
    assert!(
        session.starts_with("jembatan_inbox=jbs_") && session.len() > 40,
        "{session}"
    );
    assert!(
        set_cookie.contains("Max-Age=43200"),
        "12 hours by default: {set_cookie}"
    );
    html(inbox_with_cookie(&gw, &session), 200);

    let revoked = gw.admin(Method::DELETE, "/v1/admin/craftsmen/jaya/token", None);
    assert_eq!(revoked.status().as_u16(), 204);
    let refused = expect_problem(api_inbox(&gw, &token), 401);
    assert_eq!(refused["detail"], "the craftsman token is not valid");
    let page = html(inbox_with_cookie(&gw, &session), 401);
    assert!(page.contains("Sesi Anda sudah berakhir"), "{page}");
    let login = browser()
        .post(gw.url("/inbox/login"))
        .form(&[("token", token.as_str())])
        .send()
        .unwrap();
    html(login, 401);

    // Rotating gives a token back, and also ends the sessions the last one opened.
    let rotated = json_of(
        gw.admin(Method::POST, "/v1/admin/craftsmen/jaya/token", None),
        200,
    );
    assert_eq!(rotated["sessions_ended"], 0, "{rotated}");
    let second = rotated["token"].as_str().unwrap().to_owned();
    json_of(api_inbox(&gw, &second), 200);
    let second_session = cookie_pair(&sign_in(&gw, &second));
    html(inbox_with_cookie(&gw, &second_session), 200);
    let third = json_of(
        gw.admin(Method::POST, "/v1/admin/craftsmen/jaya/token", None),
        200,
    );
    assert_eq!(third["sessions_ended"], 1, "{third}");
    html(inbox_with_cookie(&gw, &second_session), 401);
    expect_problem(api_inbox(&gw, &second), 401);
    json_of(api_inbox(&gw, third["token"].as_str().unwrap()), 200);

    expect_problem(
        gw.admin(Method::DELETE, "/v1/admin/craftsmen/nobody/token", None),
        404,
    );
}

#[test]
fn a_logged_out_cookie_opens_nothing() {
    let gw = Gateway::start();
    let key = gw.create_buyer("mitra", "canonical-json", json!({}));
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya", "language": "en"}));
    gw.route("mitra", "PBG-017", "jaya");
    let order = gw.post_canonical_order(&key, "PO-LOGOUT", "PBG-017");
    let session = cookie_pair(&sign_in(&gw, jaya["token"].as_str().unwrap()));
    let list = html(inbox_with_cookie(&gw, &session), 200);
    assert!(list.contains("PO-LOGOUT"), "{list}");

    assert_logged_out(
        browser()
            .post(gw.url("/inbox/logout"))
            .header("origin", &gw.base)
            .header("cookie", &session)
            .send()
            .unwrap(),
    );
    // The browser was told to forget it; a copy kept anyway is refused.
    let page = html(inbox_with_cookie(&gw, &session), 401);
    assert!(!page.contains("PO-LOGOUT"), "{page}");
    assert!(page.contains("action=\"/inbox/login\""), "{page}");
    let one = browser()
        .get(gw.url(&format!("/inbox/{order}")))
        .header("cookie", &session)
        .send()
        .unwrap();
    assert_eq!(one.status().as_u16(), 303, "to the sign-in form");
    assert_eq!(one.headers()["location"], "/inbox");
    assert!(!one.text().unwrap().contains("PO-LOGOUT"));
}

#[test]
fn an_expired_session_is_refused() {
    let gw = Gateway::start_with(Options {
        env: vec![("JEMBATAN_INBOX_SESSION_TTL_SECS".into(), "2".into())],
        ..Options::default()
    });
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let signed_in = Instant::now();
    let set_cookie = sign_in(&gw, jaya["token"].as_str().unwrap());
    assert!(set_cookie.contains("Max-Age=2"), "{set_cookie}");
    let session = cookie_pair(&set_cookie);
    html(inbox_with_cookie(&gw, &session), 200);
    let deadline = Instant::now() + WAIT;
    loop {
        let res = inbox_with_cookie(&gw, &session);
        if res.status().as_u16() == 401 {
            assert!(html(res, 401).contains("Sesi Anda sudah berakhir"));
            break;
        }
        assert_eq!(res.status().as_u16(), 200);
        assert!(Instant::now() < deadline, "the session never expired");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        signed_in.elapsed() >= Duration::from_millis(1900),
        "refused before its 2 s were up: {:?}",
        signed_in.elapsed()
    );
}

#[test]
fn login_and_logout_from_another_sites_page_are_refused() {
    let gw = Gateway::start();
    let jaya = gw.create_craftsman(json!({"id": "jaya", "name": "Bengkel Jaya"}));
    let token = jaya["token"].as_str().unwrap();
    let login = |headers: &[(&str, &str)]| {
        let mut req = browser()
            .post(gw.url("/inbox/login"))
            .form(&[("token", token)]);
        for &(name, value) in headers {
            req = req.header(name, value);
        }
        req.send().unwrap()
    };
    for headers in [
        &[("origin", "http://evil.example")][..],
        &[("origin", "null")],
        &[("sec-fetch-site", "cross-site")],
    ] {
        let res = login(headers);
        assert!(res.headers().get("set-cookie").is_none(), "{headers:?}");
        let page = html(res, 403);
        assert!(
            page.contains("dikirim dari situs lain"),
            "{headers:?}: {page}"
        );
    }
    // The gateway's own page, and a program that sends no Origin, are let in.
    assert_eq!(login(&[("origin", &gw.base)]).status().as_u16(), 303);
    assert_eq!(
        login(&[("sec-fetch-site", "same-origin")])
            .status()
            .as_u16(),
        303
    );
    let session = cookie_pair(&sign_in(&gw, token));

    let logout = browser()
        .post(gw.url("/inbox/logout"))
        .header("origin", "http://evil.example")
        .header("cookie", &session)
        .send()
        .unwrap();
    assert!(logout.headers().get("set-cookie").is_none());
    html(logout, 403);
    html(inbox_with_cookie(&gw, &session), 200);
}

#[test]
fn sighup_puts_the_reloaded_admin_token_in_force() {
    let (first, second) = (
        "q8Zt2vYx7LmP4nR6sW1kJ3hD-first",
        "w3Hn9cKe5RbT1yUo8iAp6sDf-second",
    );
    let gw = Gateway::start_with(Options {
        config: Some(format!("admin_token = \"{first}\"\n")),
        without_admin_token: true,
        ..Options::default()
    });
    let admin = |token: &str| {
        gw.client
            .get(gw.url("/v1/admin/craftsmen"))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    json_of(admin(first), 200);
    assert!(
        !gw.logs().contains("the admin token is weak"),
        "a random 30-character token is not weak"
    );
    expect_problem(admin(second), 401);

    std::fs::write(
        gw.data_dir.join("jembatan.toml"),
        format!("admin_token = \"{second}\"\n"),
    )
    .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(gw.pid() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while admin(second).status().as_u16() != 200 {
        assert!(Instant::now() < deadline, "the new admin token never took");
        std::thread::sleep(Duration::from_millis(50));
    }
    expect_problem(admin(first), 401);

    // A config with a mistake in it changes nothing: the operator is not locked out.
    std::fs::write(gw.data_dir.join("jembatan.toml"), "admin_token = \n").unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(gw.pid() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let deadline = Instant::now() + WAIT;
    while !gw.logs().contains("SIGHUP: the config cannot be read") {
        assert!(Instant::now() < deadline, "the bad config was not reported");
        std::thread::sleep(Duration::from_millis(50));
    }
    json_of(admin(second), 200);
    assert!(!gw.logs().contains(first) && !gw.logs().contains(second));
}

#[test]
fn a_weak_admin_token_is_warned_about() {
    // The harness's `test-admin-token` is 16 characters, and two common words.
    let gw = Gateway::start();
    let logs = gw.logs();
    assert_eq!(
        logs.matches("the admin token is weak: it contains a common word")
            .count(),
        1,
        "{logs}"
    );
    assert!(
        !logs.contains("test-admin-token"),
        "the token itself is not logged"
    );
}

#[test]
fn demo_refuses_a_non_loopback_listen_address() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_jembatan"))
        .args(["serve", "--demo"])
        .env("JEMBATAN_LISTEN", "0.0.0.0:0")
        .env("JEMBATAN_DATA_DIR", data.path())
        .env_remove("JEMBATAN_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve --demo on 0.0.0.0 did not exit: it is serving");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: --demo listens only on a loopback address (such as 127.0.0.1:8080), not 0.0.0.0:0"),
        "{stderr}"
    );
    assert!(
        !data.path().join("jembatan.db").exists(),
        "nothing was started"
    );
}
