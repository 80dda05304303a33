"""Unit tests of the screening classifier on the hard cases of real Thai descriptions."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies

from services.screening.domain.classifier import SUGGESTED_BY_VOLUNTEER, Classification, Classifier
from services.screening.domain.lexicon import LexiconError
from shared.contracts.need_types import NeedType
from tests.unit.screening.vocabulary import DRUGS, JOBS, MIGRANT, SKILLS, SS40, UNFAIR, types_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ไม่ได้ต้องการหางาน แต่อยากฝึกอาชีพ", {SKILLS}),
        ("ไม่ได้อยากเปลี่ยนงานนะคะ แค่อยากเพิ่มทักษะการขายออนไลน์", {SKILLS}),
        ("ไม่ได้ต้องการฝึกอบรมอะไรแล้ว แต่ต้องการงานทำด่วนที่สุด", {JOBS}),
        ("ผมไม่ได้ต้องการหางานใหม่ แต่นายจ้างเก่ายังค้างเงินเดือนผมอยู่", {UNFAIR}),
        ("ไม่ได้มีปัญหาเรื่องค่าแรง แต่ใบอนุญาตทำงานของลูกจ้างพม่าจะหมดอายุ", {MIGRANT}),
        ("I'm not looking for a job, but I want to learn welding.", {SKILLS}),
        ("ผมไม่ได้ตกงานนะครับ ยังทำงานที่เดิม แค่มาถามข่าวเฉยๆ", set()),
        ("ครอบครัวนี้ไม่มีใครเป็นแรงงานต่างด้าว ทุกคนเป็นคนไทย", set()),
    ],
)
def test_negated_clause_does_not_count_and_clause_after_but_carries_intent(
    classifier: Classifier, text: str, expected: set[NeedType]
) -> None:
    assert types_of(classifier.classify(text)) == expected


@pytest.mark.parametrize(
    "section",
    ["ม.40", "ม. 40", "ม.๔๐", "ม 40", "ม40", "มาตรา 40", "มาตรา๔๐", "มาตร 40", "section 40", "SS40", "ss 40"],
)
def test_every_spelling_of_section_40_is_ss40(classifier: Classifier, section: str) -> None:
    result = classifier.classify(f"อยากสมัครประกันสังคม {section} ต้องทำอย่างไร")
    assert types_of(result) == {SS40}
    assert result.manual_reason is None


@pytest.mark.parametrize(
    "text",
    [
        "เป็นผู้ประกันตน ม.33 อยากรู้ว่าเบิกทำฟันได้ปีละเท่าไหร่",
        "ลาออกจากบริษัทแล้ว อยากส่งประกันสังคมต่อแบบมาตรา 39",
        "ผู้ประกันตนมาตรา ๓๙ ขาดส่งไป 3 เดือน สิทธิจะหมดไหม",
        "Section 33 insured person, how do I change my hospital?",
    ],
)
def test_sections_33_and_39_are_not_ss40(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.types == ()
    assert result.manual_reason is not None


def test_explicit_section_40_survives_a_mention_of_section_39(classifier: Classifier) -> None:
    result = classifier.classify("ลาออกจากงานไปทำไร่แล้ว ไม่ได้ส่งต่อแบบ ม.39 อยากสมัคร ม.40 แทน")
    assert types_of(result) == {SS40}


def test_an_age_of_40_is_not_section_40(classifier: Classifier) -> None:
    result = classifier.classify("ผม 40 ปีแล้ว ยังหางานไม่ได้เลย")
    assert types_of(result) == {JOBS}


@pytest.mark.parametrize(
    "text",
    [
        "ตำรวจบุกจับผู้ค้ายาบ้าในหมู่บ้าน ยึดของกลาง 2,000 เม็ด",
        "วัยรุ่นในชุมชนมั่วสุมเสพยาบ้าตอนกลางคืนที่ศาลาหมู่บ้าน",
        "Police arrested two men selling meth in the village last night.",
    ],
)
def test_a_drug_case_outside_a_workplace_is_not_drugs_workplace(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.types == ()
    assert result.manual_reason == "near_miss:drug_case_outside_workplace"


@pytest.mark.parametrize(
    "text",
    [
        "มีพนักงานในโรงงานแอบเสพยาบ้าในห้องน้ำช่วงพักเที่ยง",
        "เด็กติดยาในโรงงาน หัวหน้าไลน์ไม่กล้าแจ้ง",
        "โรงงานอยากเข้าร่วมโครงการโรงงานสีขาว ต้องทำยังไง",
        "A co-worker sells yaba to other staff in the warehouse.",
    ],
)
def test_drugs_in_a_workplace_are_drugs_workplace(classifier: Classifier, text: str) -> None:
    assert types_of(classifier.classify(text)) == {DRUGS}


@pytest.mark.parametrize(
    "text",
    [
        "รัฐมนตรีว่าการกระทรวงแรงงานเป็นประธานเปิดสัมมนาเชิงปฏิบัติการอาสาสมัครแรงงาน ณ โรงแรมในกรุงเทพฯ",
        "ปลัดกระทรวงแรงงานมอบนโยบายแก่เจ้าหน้าที่พี่เลี้ยงอาสาสมัครแรงงาน เน้นการพัฒนาฝีมือและการมีงานทำ",
        "The Minister of Labour presided over the opening ceremony of a seminar for labour volunteers.",
    ],
)
def test_ministry_news_is_none_of_the_types(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).types == ()


def test_ministry_news_with_labour_words_is_named_as_a_near_miss(classifier: Classifier) -> None:
    text = (
        "ที่ปรึกษารัฐมนตรีว่าการกระทรวงแรงงาน เป็นประธานเปิดการอบรมโครงการเสริมสร้างศักยภาพเครือข่าย"
        "อาสาสมัครแรงงาน และร่วมต้านภัยยาเสพติดในสถานประกอบการ"
    )
    result = classifier.classify(text)
    assert result.types == ()
    assert result.manual_reason == "near_miss:ministry_news"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("แรงงานพม่า 5 คนไม่ได้รับค่าจ้างมา 2 เดือน", {MIGRANT, UNFAIR}),
        ("Migrant workers at the fish factory haven't been paid for 6 weeks.", {MIGRANT, UNFAIR}),
        ("ตกงานมาครึ่งปี อยากหางานใหม่ และอยากเข้าอบรมอาชีพช่างไฟเพิ่มด้วย", {JOBS, SKILLS}),
        ("คนงานต่างด้าวในแคมป์ก่อสร้างเสพยาไอซ์กันเป็นกลุ่ม", {MIGRANT, DRUGS}),
    ],
)
def test_a_need_can_have_several_types(classifier: Classifier, text: str, expected: set[NeedType]) -> None:
    result = classifier.classify(text)
    assert types_of(result) == expected
    confidences = [assessment.confidence for assessment in result.types]
    assert confidences == sorted(confidences, reverse=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ตกงานค่ะ ใครมีงานช่วยบอกด้วย", JOBS),
        ("เงินเดือนไม่ออกมา 2 เดือน บริษัทบอกขาดสภาพคล่อง", UNFAIR),
        ("โดนไล่ออกทั้งที่ไม่ได้ทำอะไรผิด", UNFAIR),
        ("โดน layoff ไม่ได้เงินชดเชยเลย", UNFAIR),
        ("work permit หมดอายุเดือนหน้า ต่อได้ที่ไหน", MIGRANT),
        ("unpaid wages for 3 months at a garment factory", UNFAIR),
        ("ฝึกอาชิพช่างเสริมสวย เปิดรุ่นใหม่เมื่อไรคะ", SKILLS),
        ("ตกงานมา ๓ เดือน ผ่อนรถไม่ไหวแล้ว", JOBS),
        ("ใบอนุญาติทำงานของลูกจ้างพม่าหมดอายุ ต่อออนไลน์ได้ไหม", MIGRANT),
    ],
)
def test_colloquial_misspelt_and_mixed_language_descriptions(
    classifier: Classifier, text: str, expected: NeedType
) -> None:
    result = classifier.classify(text)
    assert types_of(result) == {expected}
    assert result.types[0].evidence, "an accepted type names the words that decided it"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ကျွန်တော့်အလုပ်ရှင်က လစာ နှစ်လ မပေးသေးဘူး", "my"),
        ("ខ្ញុំមិនទាន់បានទទួលប្រាក់ខែពីរខែហើយ", "km"),
        ("ນາຍຈ້າງບໍ່ຈ່າຍເງິນເດືອນມາສອງເດືອນແລ້ວ", "lo"),
        ("ข้อความจากแรงงาน: ကျွန်မကို အလုပ်ရှင်က ရိုက်နှက်ပြီး အိမ်ပြန်ခွင့်မပေးဘူး", "my"),
    ],
)
def test_burmese_khmer_and_lao_go_to_manual_screening_with_the_language_named(
    classifier: Classifier, text: str, language: str
) -> None:
    result = classifier.classify(text, suggested_types=[UNFAIR])
    assert result.types == ()
    assert result.language == language
    assert result.manual_reason == f"unsupported_language:{language}"
    assert result.disagreement == (UNFAIR,)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("ตกงานมาสามเดือน", "th"),
        ("I lost my job last month", "en"),
        ("work permit หมดอายุ", "mixed"),
        ("", "und"),
    ],
)
def test_language_label(classifier: Classifier, text: str, language: str) -> None:
    assert classifier.classify(text).language == language


def test_suggestion_lifts_a_borderline_type_and_is_named_as_evidence(classifier: Classifier) -> None:
    text = "อยากรู้เรื่องประกันสังคม"
    alone = classifier.classify(text)
    assert alone.types == ()
    assert alone.manual_reason == "low_confidence"

    suggested = classifier.classify(text, suggested_types=[SS40])
    assert types_of(suggested) == {SS40}
    assert SUGGESTED_BY_VOLUNTEER in suggested.types[0].evidence
    assert suggested.disagreement == ()


def test_suggestion_never_creates_a_type_without_textual_support(classifier: Classifier) -> None:
    result = classifier.classify("ตกงานมาสามเดือน อยากหางานใกล้บ้าน", suggested_types=[DRUGS])
    assert types_of(result) == {JOBS}
    assert result.disagreement == (JOBS, DRUGS)


def test_suggestion_does_not_rescue_a_negated_type(classifier: Classifier) -> None:
    result = classifier.classify("ไม่ได้ต้องการหางาน แต่อยากฝึกอาชีพ", suggested_types=[JOBS])
    assert types_of(result) == {SKILLS}
    assert result.disagreement == (JOBS, SKILLS)


def test_no_suggestion_means_no_disagreement(classifier: Classifier) -> None:
    result = classifier.classify("ลูกจ้างในโรงงานแอบเสพยาบ้าช่วงกะดึก")
    assert result.disagreement == ()
    assert result.classifier_version == classifier.version
    assert classifier.version.startswith("lexicon-")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty_text"),
        ("ถนนเข้าหมู่บ้านเป็นหลุมเป็นบ่อ อยากให้ อบต. มาซ่อม", "no_type_matched"),
    ],
)
def test_manual_reasons(classifier: Classifier, text: str, reason: str) -> None:
    result = classifier.classify(text)
    assert result.types == ()
    assert result.manual_reason == reason


GARBAGE = [
    "",
    " \t\n ",
    "\x00\x01\x02\x1b[31m",
    "\ud800\udfff lone surrogates \udc00",
    "😀" * 500,
    "ก" * 50_000,
    "ไม่" * 2_000,
    "แต่" * 2_000 + "หางาน",
    "ม." * 3_000,
    "(((*+?[\\]^$|{}.",
    "\u200b\u200c\u200d\ufeff\u00ad" * 100,
    "ํา่่่้้้็็็ัััิ" * 50,
    "مرحبا بالعالم שלום",
    "ယ" * 10 + "ក" * 10 + "ກ" * 10,
    "\U0010ffff\U000e0001",
    bytes(range(256)).decode("latin-1"),
    "ม.40" * 1_000,
    "\n" * 1_000,
]


@pytest.mark.parametrize("text", GARBAGE)
def test_never_raises_on_garbage(classifier: Classifier, text: str) -> None:
    assert_well_formed(classifier.classify(text, suggested_types=list(NeedType)))


def test_never_raises_on_arbitrary_text(classifier: Classifier) -> None:
    @settings(max_examples=300, deadline=None, database=None)
    @given(strategies.text(max_size=300))
    def check(text: str) -> None:
        assert_well_formed(classifier.classify(text))

    check()


def assert_well_formed(result: Classification) -> None:
    assert all(0.0 <= assessment.confidence <= 1.0 for assessment in result.types)
    assert (result.manual_reason is None) == bool(result.types)
    assert isinstance(result.language, str)


def test_classify_is_safe_to_share_between_threads(classifier: Classifier) -> None:
    texts = [
        "ตกงานมาสามเดือน อยากหางานใกล้บ้าน",
        "แรงงานพม่า 5 คนไม่ได้รับค่าจ้างมา 2 เดือน",
        "ไม่ได้ต้องการหางาน แต่อยากฝึกอาชีพ",
        "ลูกจ้างในโรงงานแอบเสพยาบ้าช่วงกะดึก",
    ] * 25
    sequential = [classifier.classify(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(classifier.classify, texts))
    assert concurrent == sequential


def test_a_missing_lexicon_is_a_named_error() -> None:
    with pytest.raises(LexiconError, match="cannot read lexicon file"):
        Classifier.load(Path("/nonexistent/screening.toml"))
