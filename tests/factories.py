"""factory_boy factories for the domain models. Listing prices derive unit price exactly."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from catalogue.models import CatalogueVersion, ImportStatus, Listing, Manufacturer
from catalogue.specs import form_group, normalise_text, parse_strength
from pricing.engine.defaults import DEFAULT_FORM_ALIASES, DEFAULT_TIER_CLASSES
from pricing.engine.ruleset import default_rule_set
from pricing.models import CorrectionRound, Flag, JobStatus

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = "regulator"

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class ManufacturerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Manufacturer
        django_get_or_create = ("name_norm",)

    name = factory.Sequence(lambda n: f"企业{n}有限公司")
    name_norm = factory.LazyAttribute(lambda o: normalise_text(o.name))


class CatalogueVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogueVersion

    province = "湖南"
    label = factory.Sequence(lambda n: f"测试目录{n}")
    source_name = "test.csv"
    source_path = ""
    source_hash = factory.Sequence(lambda n: f"{n:064x}")
    status = ImportStatus.ACTIVE
    activated_at = factory.LazyFunction(timezone.now)


class ListingFactory(factory.django.DjangoModelFactory):
    """Pass generic_name, dosage_form, strength, pack_quantity, quality_tier, listed_price; the
    normalised fields are derived the way ingest derives them."""

    class Meta:
        model = Listing

    version = factory.SubFactory(CatalogueVersionFactory)
    row_number = factory.Sequence(lambda n: n + 2)
    listing_code = factory.Sequence(lambda n: f"T{n:06d}")
    generic_name = "阿莫西林胶囊"
    generic_name_norm = factory.LazyAttribute(lambda o: normalise_text(o.generic_name))
    dosage_form = "胶囊剂"
    form_group = factory.LazyAttribute(lambda o: form_group(o.dosage_form, DEFAULT_FORM_ALIASES)[0])
    strength = "0.25g"
    strength_norm = factory.LazyAttribute(lambda o: parse_strength(o.strength).norm)
    content_value = factory.LazyAttribute(lambda o: parse_strength(o.strength).content)
    content_unit = factory.LazyAttribute(lambda o: parse_strength(o.strength).unit or "")
    volume_ml = factory.LazyAttribute(lambda o: parse_strength(o.strength).volume_ml)
    spec_parsed = factory.LazyAttribute(lambda o: parse_strength(o.strength).parsed)
    pack_quantity = 24
    manufacturer = factory.SubFactory(ManufacturerFactory)
    manufacturer_name = factory.LazyAttribute(lambda o: o.manufacturer.name)
    quality_tier = "过评"
    tier_class = factory.LazyAttribute(lambda o: DEFAULT_TIER_CLASSES[o.quality_tier])
    vbp_selected = False
    listed_price = Decimal("10.00")
    unit_price = factory.LazyAttribute(lambda o: Decimal(o.listed_price) / Decimal(o.pack_quantity))
    listing_status = "挂网"
    is_active = True


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CorrectionRound

    title = factory.Sequence(lambda n: f"2026年第{n}批纠偏")
    province = "湖南"
    catalogue_version = factory.SubFactory(CatalogueVersionFactory)
    rule_set = factory.LazyFunction(default_rule_set)
    detection_status = JobStatus.DONE


class FlagFactory(factory.django.DjangoModelFactory):
    """A flag with self-consistent numbers: benchmark converted unit price × n_t = limit."""

    class Meta:
        model = Flag

    round = factory.SubFactory(RoundFactory)
    listing = factory.SubFactory(
        ListingFactory, version=factory.SelfAttribute("..round.catalogue_version"), quality_tier="未过评"
    )
    rule_code = "TIER_UNEVALUATED"
    manufacturer = factory.LazyAttribute(lambda o: o.listing.manufacturer)
    generic_name = factory.LazyAttribute(lambda o: o.listing.generic_name)
    form_group = factory.LazyAttribute(lambda o: o.listing.form_group)
    benchmark_listing = factory.SubFactory(
        ListingFactory,
        version=factory.SelfAttribute("..round.catalogue_version"),
        generic_name=factory.SelfAttribute("..listing.generic_name"),
        listed_price=Decimal("4.80"),
    )
    target_price = factory.LazyAttribute(lambda o: o.listing.listed_price)
    target_unit_price = factory.LazyAttribute(lambda o: o.listing.unit_price)
    benchmark_price = factory.LazyAttribute(lambda o: o.benchmark_listing.listed_price)
    benchmark_unit_price = factory.LazyAttribute(lambda o: o.benchmark_listing.unit_price)
    benchmark_converted = factory.LazyAttribute(lambda o: o.benchmark_listing.unit_price)
    factors = factory.LazyFunction(dict)
    limit_price = factory.LazyAttribute(
        lambda o: (o.benchmark_converted * o.listing.pack_quantity).quantize(Decimal("0.01"))
    )
    ratio = factory.LazyAttribute(lambda o: (o.target_price / o.limit_price).quantize(Decimal("0.0001")))
    severity = "红★"
    overcharge = factory.LazyAttribute(lambda o: o.target_price - o.limit_price)
    rule_set_version = 1
