"""The references that have no database constraint (Flag.round, Flag.manufacturer, ReferencePrice.price_set,
see the models) are still kept: checked once per detection, and cascaded by the ORM."""

import pytest

from catalogue.ingest.load import missing_manufacturers
from catalogue.models import Listing, Manufacturer, ReferencePrice, ReferencePriceSet
from pricing.engine.rounds import run_detection
from pricing.models import Flag

services = pytest.importorskip("catalogue.services")


@pytest.mark.django_db
def test_missing_manufacturers_names_only_the_absent_ids():
    present = Manufacturer.objects.create(name="甲药业", name_norm="甲药业")
    assert missing_manufacturers([present.pk, present.pk + 7, present.pk + 3]) == [present.pk + 3, present.pk + 7]
    assert missing_manufacturers([]) == []


def test_a_detection_whose_flag_names_a_missing_manufacturer_stores_nothing(sample_round):
    run_detection(sample_round.pk)
    before = list(Flag.objects.filter(round=sample_round).order_by("id").values_list("id", "listing_id", "ratio"))
    assert before
    # a listing's manufacturer reference has no database constraint either: point one flagged listing
    # at a manufacturer that does not exist, as a raw-SQL delete of the manufacturer would
    listing_id = before[0][1]
    gone = Manufacturer.objects.order_by("-pk").first().pk + 1000
    Listing.objects.filter(pk=listing_id).update(manufacturer_id=gone)
    with pytest.raises(RuntimeError, match=f"missing manufacturers \\[{gone}\\]"):
        run_detection(sample_round.pk)
    sample_round.refresh_from_db()
    assert sample_round.detection_status == "failed"
    # the earlier flags are untouched: the replacement was rolled back as a whole
    after = list(Flag.objects.filter(round=sample_round).order_by("id").values_list("id", "listing_id", "ratio"))
    assert after == before


@pytest.mark.django_db
def test_deleting_a_reference_price_set_still_deletes_its_prices(samples_dir):
    kept = services.import_reference_prices(samples_dir / "reference_prices_sample.csv", label="留")
    dropped = ReferencePriceSet.objects.create(label="删", source_name="x.csv", source_hash="0" * 64)
    ReferencePrice.objects.bulk_create(
        ReferencePrice(price_set=dropped, row_number=i, province="广东", listed_price="1.0000") for i in (1, 2)
    )
    dropped.delete()
    assert not ReferencePrice.objects.filter(price_set_id=dropped.pk).exists()
    assert ReferencePrice.objects.filter(price_set=kept).count() == kept.row_count > 0
