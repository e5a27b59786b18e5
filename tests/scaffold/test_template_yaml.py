"""template.yaml's round trip: an entry removed takes its own heading comment, never the next entry's."""

from __future__ import annotations

from scaffold import template_yaml

BEFORE = """Resources:
  Mine:
    Type: AWS::SNS::Topic

  # Ours, generated.
  Ours:
    Type: AWS::SQS::Queue
    Properties:
      Tags: [a, b]

  # Mine too, added by hand after it.
  MyBucket:
    Type: AWS::S3::Bucket

  # The last one.
  Last:
    Type: AWS::S3::Bucket
"""


def test_removing_an_entry_keeps_the_next_entrys_heading_and_one_blank_line() -> None:
    document = template_yaml.load(BEFORE)
    template_yaml.remove(document, ["Ours"])
    assert template_yaml.dump(document) == BEFORE.replace(
        "  # Ours, generated.\n  Ours:\n    Type: AWS::SQS::Queue\n    Properties:\n      Tags: [a, b]\n\n", ""
    )


def test_an_entry_after_a_block_mapping_keeps_its_heading_too() -> None:
    document = template_yaml.load(BEFORE)
    template_yaml.remove(document, ["MyBucket"])
    assert template_yaml.dump(document) == BEFORE.replace(
        "  # Mine too, added by hand after it.\n  MyBucket:\n    Type: AWS::S3::Bucket\n\n", ""
    )


def test_a_fingerprint_sees_content_not_comments() -> None:
    document = template_yaml.load(BEFORE)
    original = template_yaml.fingerprint(document, "Ours")
    commented = template_yaml.load(BEFORE.replace("      Tags: [a, b]", "      Tags: [a, b]  # why"))
    assert template_yaml.fingerprint(commented, "Ours") == original
    changed = template_yaml.load(BEFORE.replace("Tags: [a, b]", "Tags: [a, c]"))
    assert template_yaml.fingerprint(changed, "Ours") != original
    tagged = template_yaml.load(BEFORE.replace("Type: AWS::SQS::Queue", "Type: !Ref AWS::SQS::Queue"))
    assert template_yaml.fingerprint(tagged, "Ours") != original
    assert template_yaml.fingerprint(document, "Nothing") is None
