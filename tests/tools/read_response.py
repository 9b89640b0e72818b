"""Reads a rendered order response with an independent parser and prints what it
says as JSON, for tests/it/rendered_responses.rs.

    python3 tests/tools/read_response.py x12|edifact|ubl < document

- x12: pyx12's X12Reader (https://pypi.org/project/pyx12/), which reads the
  delimiters from the ISA and checks the envelopes as it goes (SE01 against the
  segments counted, ST02/SE02, GS06/GE02, ISA13/IEA02, GE01 and IEA01); its
  errors are printed with the segments. pyx12 ships maps only for the HIPAA
  transactions, so an 855 cannot be checked against a map.
- edifact: pydifact's Interchange (https://pypi.org/project/pydifact/): the UNA,
  the UNB parties and reference, and each message's segments.
- ubl: lxml (https://pypi.org/project/lxml/), the elements by namespace.
"""

import io
import json
import sys
import warnings


def x12(text):
    from pyx12.x12file import X12Reader

    reader = X12Reader(io.StringIO(text))
    segments = []
    for seg in reader:
        sid = seg.get_seg_id()
        values = [sid]
        for n in range(1, len(seg) + 1):
            value = seg.get_value(f"{sid}{n:02d}")
            values.append("" if value is None else value)
        segments.append(values)
    errors = [str(e) for e in reader.pop_errors()]
    return {"segments": segments, "errors": errors}


def edifact(text):
    from pydifact.segmentcollection import Interchange

    warnings.simplefilter("ignore")
    interchange = Interchange.from_str(text)
    messages = []
    for message in interchange.get_messages():
        messages.append(
            {
                "type": message.type,
                "reference": message.reference_number,
                "identifier": message.identifier,
                "segments": [[s.tag, s.elements] for s in message.segments],
            }
        )
    return {
        "sender": interchange.sender,
        "recipient": interchange.recipient,
        "control_reference": interchange.control_reference,
        "syntax_identifier": list(interchange.syntax_identifier),
        "messages": messages,
    }


def ubl(text):
    from lxml import etree

    ns = {
        "r": "urn:oasis:names:specification:ubl:schema:xsd:OrderResponse-2",
        "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
        "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    }
    root = etree.fromstring(text.encode("utf-8"))

    def one(node, path):
        found = node.xpath(path, namespaces=ns)
        return found[0] if found else None

    lines = []
    for line in root.xpath("cac:OrderLine/cac:LineItem", namespaces=ns):
        quantity = line.find("cbc:Quantity", ns)
        lines.append(
            {
                "id": one(line, "cbc:ID/text()"),
                "status": one(line, "cbc:LineStatusCode/text()"),
                "quantity": quantity.text if quantity is not None else None,
                "unit": quantity.get("unitCode") if quantity is not None else None,
                "promised": one(line, "cac:Delivery/cac:PromisedDeliveryPeriod/cbc:EndDate/text()"),
                "price": one(line, "cac:Price/cbc:PriceAmount/text()"),
            }
        )
    return {
        "root": root.tag,
        "children": [etree.QName(c).localname for c in root],
        "version": one(root, "cbc:UBLVersionID/text()"),
        "id": one(root, "cbc:ID/text()"),
        "issue_date": one(root, "cbc:IssueDate/text()"),
        "code": one(root, "cbc:OrderResponseCode/text()"),
        "note": one(root, "cbc:Note/text()"),
        "order_reference": one(root, "cac:OrderReference/cbc:ID/text()"),
        "order_date": one(root, "cac:OrderReference/cbc:IssueDate/text()"),
        "seller": one(root, "cac:SellerSupplierParty/cac:Party/cac:PartyName/cbc:Name/text()"),
        "buyer": one(root, "cac:BuyerCustomerParty/cac:Party/cac:PartyName/cbc:Name/text()"),
        "promised": one(root, "cac:Delivery/cac:PromisedDeliveryPeriod/cbc:EndDate/text()"),
        "lines": lines,
    }


if __name__ == "__main__":
    kind = sys.argv[1]
    document = sys.stdin.read()
    print(json.dumps({"x12": x12, "edifact": edifact, "ubl": ubl}[kind](document)))
