"""Personal data is masked in what ops prints; ids, timestamps and account numbers stay readable."""

from __future__ import annotations

import json

from ops.personal import MASK, mask_personal, mask_shapes

CARD = "4242424242424242"  # Stripe's test Visa: Luhn-valid


def test_a_stripe_customers_personal_fields_are_masked_at_any_depth_and_its_ids_kept() -> None:
    event = {
        "id": "evt_1",
        "created": 1_795_000_000,
        "data": {
            "object": {
                "id": "cus_1",
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "phone": "+442071838750",
                "address": {"line1": "12 St James's Square", "city": "London"},
                "metadata": {"crm": "42"},
                "sources": [{"card": {"number": CARD, "exp_month": 12, "cvc": "123"}}],
            }
        },
    }
    shown = mask_personal(json.dumps(event))
    for personal in ("ada@example.com", "Ada Lovelace", "+442071838750", "James's Square", CARD, '"123"'):
        assert personal not in shown
    masked = json.loads(shown)
    assert masked["id"] == "evt_1"
    assert masked["created"] == 1_795_000_000
    assert masked["data"]["object"]["id"] == "cus_1"
    assert masked["data"]["object"]["metadata"] == {"crm": "42"}
    assert masked["data"]["object"]["address"] == MASK
    assert masked["data"]["object"]["email"] == MASK


def test_shapes_are_masked_in_any_text_but_not_numbers_that_are_no_card() -> None:
    text = f"mail ada@example.com, card {CARD} or 4242 4242 4242 4242, not 4242424242424241"
    shown = mask_shapes(text)
    assert "ada@example.com" not in shown
    assert CARD not in shown
    assert "4242 4242 4242 4242" not in shown
    assert "4242424242424241" in shown  # fails the Luhn check: no card
    # A float whose fraction would pass for a card (the test Visa's digits) is no card: JSON stays JSON.
    kept = f'sent 1796598469642 ms, account 123456789012, message 3f2a-1111-2222, "goodput": 1.{CARD}'
    assert mask_shapes(kept) == kept


def test_a_body_that_is_no_json_still_has_its_shapes_masked() -> None:
    assert mask_personal(f"card={CARD}&email=ada%40example.com&to=ada@example.com") == (
        f"card={MASK}&email={MASK}&to={MASK}"
    )


def test_personal_fields_are_found_inside_json_carried_as_a_string_and_however_their_names_are_written() -> None:
    event = {
        "data": {
            "object": {"id": "cus_1", "customer_name": "Ada", "holderName": "Bob", "Phone": "+1", "ip_address": "1"}
        }
    }
    shown = json.loads(json.loads(mask_personal(json.dumps({"Message": json.dumps(event)})))["Message"])
    assert shown["data"]["object"] == {
        "id": "cus_1",
        **dict.fromkeys(("customer_name", "holderName", "Phone", "ip_address"), MASK),
    }
    assert json.loads(mask_personal('{"name": ""}')) == {"name": ""}  # empty stays empty: nothing to hide


def test_phone_numbers_and_any_alphabets_addresses_are_masked_and_json_numbers_left_as_json() -> None:
    assert mask_shapes("call +44 20 7183 8750 or josé@example.com") == f"call {MASK} or {MASK}"
    assert mask_shapes("o'brien@example.com, ada@例え.jp") == f"{MASK}, {MASK}"
    as_json = '{"started_us": 1721948530123450, "rate": 1.4242424242424242, "count": 1721948530 }'
    assert mask_shapes(as_json) == as_json  # a number that passes for a card is no card: the output parses
    assert mask_shapes("sent 1721948530 1003 times") == "sent 1721948530 1003 times"  # two numbers, not one card
