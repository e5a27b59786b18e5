"""Twin of HotelContentSyncFunction: every page of Hotelbeds' hotel content written to HotelsTable."""

import os
import time
from typing import Annotated, Any

import boto3
from pydantic import BeforeValidator
from seed import logger
from seed_hotelbeds import HotelbedsModel, hotelbeds

HOTELS_TABLE = os.environ["HOTELS_TABLE"]
PAGE_SIZE = 100
dynamodb = boto3.client("dynamodb")
# Content API texts come wrapped: {"content": "..."}.
Text = Annotated[str | None, BeforeValidator(lambda value: value.get("content") if isinstance(value, dict) else value)]


class ContentHotel(HotelbedsModel):
    """A hotel's static content."""

    code: int
    name: Text = None
    description: Text = None
    country_code: str | None = None
    destination_code: str | None = None
    category_code: str | None = None
    address: Text = None
    city: Text = None
    postal_code: str | None = None
    email: str | None = None
    last_update: str | None = None


def item(hotel: ContentHotel, synced_at: str) -> dict[str, Any]:
    """The hotel as a HotelsTable item, keyed by its code."""
    fields = hotel.model_dump(exclude={"code"}, exclude_none=True)
    return {"code": {"N": str(hotel.code)}, "synced_at": {"N": synced_at}} | {
        name: {"S": str(value)} for name, value in fields.items()
    }


def write(hotels: list[ContentHotel]) -> None:
    """The hotels, 25 to a BatchWriteItem."""
    synced_at = str(int(time.time()))
    for start in range(0, len(hotels), 25):
        requests = [{"PutRequest": {"Item": item(hotel, synced_at)}} for hotel in hotels[start : start + 25]]
        dynamodb.batch_write_item(RequestItems={HOTELS_TABLE: requests})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Walk the Content API from the first hotel to the last."""
    first, records, pages = 1, 0, 0
    while True:
        params = {"fields": "all", "language": "ENG", "from": first, "to": first + PAGE_SIZE - 1}
        page = hotelbeds("GET", "/hotel-content-api/1.0/hotels", params=params | {"useSecondaryLanguage": "false"})
        hotels = [ContentHotel.model_validate(hotel) for hotel in page.get("hotels", [])]
        write(hotels)
        records, pages = records + len(hotels), pages + 1
        if not hotels or page["to"] >= page["total"]:
            break
        first = page["to"] + 1
    logger.info("Synced", extra={"records": records, "pages": pages})
    return {"job": "hotelbeds-content", "outcome": "caught-up", "records": records, "pages": pages, "requests": pages}
