"""Hotel content kept in a table: the Content API walked page by page, as a resumable sync job.

The cursor is the position of the next hotel to fetch. Each page is written
to the table and then checkpointed, so a run cut short resumes where it
stopped; a finished pass sets the cursor back to the first hotel, and the
next run (the next day) starts the next pass. Writes are whole items keyed by
hotel code: a page applied twice changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from seawall.errors import StoreUnavailableError
from seawall.providers.hotelbeds.client import HotelbedsGateway
from seawall.providers.hotelbeds.models import ContentHotel
from seawall.sync import Page, Position

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The Content API answers up to 1,000 hotels a page; 100 keeps a page well inside SyncPageSeconds.
PAGE_SIZE = 100
_BATCH = 25  # BatchWriteItem takes at most 25 items
_FIRST = "1"


class ContentSync:
    """The fetch and apply halves of the content job, for :meth:`SyncJob.run`."""

    def __init__(
        self, hotelbeds: HotelbedsGateway, dynamodb: DynamoDBClient, table: str, *, page_size: int = PAGE_SIZE
    ) -> None:
        self.hotelbeds = hotelbeds
        self.dynamodb = dynamodb
        self.table = table
        self.page_size = page_size

    def fetch(self, position: Position) -> Page[ContentHotel]:
        """The page of hotels at the cursor; the last page of a pass points the cursor back to the first hotel."""
        first = int(position.cursor or _FIRST)
        page = self.hotelbeds.content_hotels(first, self.page_size)
        has_more = bool(page.hotels) and page.to < page.total
        cursor = str(page.to + 1) if has_more else _FIRST
        return Page(page.hotels, Position(cursor, time.time()), has_more)

    def apply(self, hotels: Sequence[ContentHotel]) -> None:
        """Write the hotels, 25 to a call; items DynamoDB left unprocessed are sent again."""
        synced_at = str(int(time.time()))
        for start in range(0, len(hotels), _BATCH):
            requests = [{"PutRequest": {"Item": _item(hotel, synced_at)}} for hotel in hotels[start : start + _BATCH]]
            pending: dict[str, Any] = {self.table: requests}
            for _ in range(5):
                try:
                    answer = self.dynamodb.batch_write_item(RequestItems=pending)
                except Exception as error:  # botocore's errors: the table is out of reach, the next run writes again
                    raise StoreUnavailableError("hotels table", cause=error) from error
                pending = answer.get("UnprocessedItems") or {}
                if not pending:
                    break
            if pending:
                raise StoreUnavailableError("hotels table")


def _item(hotel: ContentHotel, synced_at: str) -> dict[str, Any]:
    item: dict[str, Any] = {"code": {"N": str(hotel.code)}, "synced_at": {"N": synced_at}}
    for name, value in hotel.model_dump(exclude={"code"}, exclude_none=True).items():
        item[name] = {"S": str(value)}
    return item
