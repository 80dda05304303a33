"""Unit tests of the clause rules and near-misses added in lexicon-2026.11.2, on real Thai sentences."""

from pathlib import Path

import pytest

from services.screening.domain.classifier import Classifier
from services.screening.domain.lexicon import DEFAULT_LEXICON_DIR, LexiconError, load_lexicon
from shared.contracts.need_types import NeedType
from tests.unit.screening.vocabulary import DRUGS, JOBS, MIGRANT, SKILLS, SS40, UNFAIR, types_of

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # two problems joined by แต่: both are real
        ("ลูกจ้างคนไทยถูกเลิกจ้าง แต่นายจ้างรับแรงงานต่างด้าวผิดกฎหมายเข้ามาทำแทน", {UNFAIR, MIGRANT}),
        ("ใบอนุญาตทำงานหมดอายุ แต่นายจ้างไม่ยอมต่อให้ แล้วยังค้างเงินเดือน", {MIGRANT, UNFAIR}),
        ("อยากหางานใหม่ แต่ก็อยากเข้าอบรมช่างไฟก่อน", {JOBS, SKILLS}),
        # the clause before แต่ concedes that its matter is settled: it gives way
        ("ใบอนุญาตทำงานของลูกจ้างถูกต้องครบถ้วน แต่ร้านไม่จ่ายค่าล่วงเวลาพนักงานไทย", {UNFAIR}),
        ("เคยตกงาน แต่ตอนนี้อยากสมัครประกันสังคม ม.40 เพราะขายของออนไลน์", {SS40}),
        ("Her work permit is valid, but the boss has not paid her for two months.", {UNFAIR}),
    ],
)
def test_only_a_conceding_clause_gives_way_to_the_clause_after_but(
    classifier: Classifier, text: str, expected: set[NeedType]
) -> None:
    assert types_of(classifier.classify(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a phrase that carries its own negation is not flipped by an earlier one
        ("โรงงานไล่พนักงานออกโดยไม่ตักเตือนไม่จ่ายค่าชดเชย", {UNFAIR}),
        ("นายจ้างเก่าไม่คืนเอกสารและไม่จ่ายเงินเดือนงวดสุดท้าย", {UNFAIR}),
        # และ/and ends the reach of a negation
        ("ไม่มีประกันอะไรเลย และอยากสมัครมาตรา 40", {SS40}),
        ("I have no insurance and I want to find a job.", {JOBS}),
        # within one clause the negation still holds
        ("ไม่ได้ตกงานครับ แค่อยากรู้ข่าวสาร", set()),
    ],
)
def test_negation_scope(classifier: Classifier, text: str, expected: set[NeedType]) -> None:
    assert types_of(classifier.classify(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("แรงงานเมียนมาอยากย้ายไปทำงานกับนายจ้างใหม่ ต้องทำเรื่องที่ไหน", {MIGRANT}),
        ("My Cambodian worker wants to change employer, what is the process?", {MIGRANT}),
        ("ขอแบบฟอร์มแจ้งการจ้างคนต่างด้าวเข้าทำงาน", {MIGRANT}),
        # an employer who cannot find workers also needs placement
        ("ร้านอาหารหาคนงานไทยไม่ได้ อยากจ้างแรงงานกัมพูชาแบบถูกกฎหมาย", {JOBS, MIGRANT}),
        # a Thai worker changing jobs is still a job search
        ("อยากเปลี่ยนงานใหม่ที่ใกล้บ้านกว่านี้", {JOBS}),
    ],
)
def test_a_foreign_worker_changing_employer_is_migrant_labour_not_jobs(
    classifier: Classifier, text: str, expected: set[NeedType]
) -> None:
    assert types_of(classifier.classify(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # social security benefits: ชดเชย and injuries are the insured person's claim
        ("ผู้ประกันตนมาตรา 40 นอนโรงพยาบาล 3 วัน ได้เงินชดเชยวันละเท่าไหร่", {SS40}),
        ("ชาวสวนเป็นผู้ประกันตน ม.40 ตกจากที่สูงขาหัก เบิกอะไรได้บ้าง", {SS40}),
        # a risk named is not an injury suffered
        ("พนักงานขับรถบรรทุกเสพยาบ้าก่อนเข้ากะ เสี่ยงอุบัติเหตุ", {DRUGS}),
        # an age that only starts with a small digit is not a child
        ("ป้าอายุ 58 แล้วแต่ยังอยากทำงาน มีงานสำหรับผู้สูงอายุบ้างไหม", {JOBS}),
        # the legal social security deduction is not a wage deduction
        ("ผู้ประกันตนมาตรา 33 ถูกหักเงินสมทบเดือนละ 750 บาท", set()),
        # the real cases still count
        ("ถูกเลิกจ้างไม่ได้ค่าชดเชย ตอนนี้ขายของริมทาง อยากสมัคร ม.40", {UNFAIR, SS40}),
        ("คนงานตกนั่งร้านที่ไซต์ก่อสร้าง นายจ้างไม่ยอมออกค่ารักษา", {UNFAIR}),
        ("มีเด็กอายุ 13 ปีทำงานในโรงงานน้ำแข็ง", {UNFAIR}),
    ],
)
def test_incidental_compensation_injury_and_risk_words_are_not_unfair_labour(
    classifier: Classifier, text: str, expected: set[NeedType]
) -> None:
    assert types_of(classifier.classify(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "เปิดรับคนขับรถไหมคะ พี่ชายมีใบขับขี่",
        "ร้านแถวบ้านรับพนักงานเพิ่มไหมครับ",
        "ยังไม่มีที่ไหนเรียกไปทำงานเลย ส่งไปหลายที่แล้ว",
        "ตกงาณอยู่ครับ ช่วยดูงานให้ด้วย",
        "เตะฝุ่นมาสองเดือนแล้ว",
        "Any openings for a cook near Pattaya?",
        "I'm searching for employment in Rayong.",
    ],
)
def test_job_search_paraphrases_without_a_job_word(classifier: Classifier, text: str) -> None:
    assert types_of(classifier.classify(text)) == {JOBS}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ได้รับคนละ 500 บาทไหม", set()),
        ("ประกันสังคมเปิดรับสมัคร ม.40 ที่อำเภอไหม", {SS40}),
        ("คณะอาสาสมัครไปศึกษาดูงานให้ความรู้ที่จังหวัดข้างเคียง", set()),
        ("นักศึกษาทำพาร์ทไทม์ร้านกาแฟ ได้ค่าแรงต่ำกว่าขั้นต่ำ", {UNFAIR}),
        ("นายจ้างเรียกไปทำงานวันหยุดแต่ไม่จ่ายเพิ่ม", {UNFAIR}),
    ],
)
def test_job_words_that_are_not_a_job_search(classifier: Classifier, text: str, expected: set[NeedType]) -> None:
    assert types_of(classifier.classify(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ทำงานมาเดือนนึงไม่ได้ตังค์เลย เถ้าแก่บอกให้รอก่อน", {UNFAIR}),
        (
            "my friend from Myanmar has no work permit and the boss pays him half of what Thai staff get",
            {MIGRANT, UNFAIR},
        ),
        ("แรงงานเพื่อนบ้านเข้ามาเก็บลำไยตามฤดูกาล ไม่มีเอกสาร", {MIGRANT}),
        ("ร้านซ่อมรถ ลูกน้องเสพไอซ์แล้วมาทำงาน", {DRUGS}),
        ("สนใจคอร์สช่างปูกระเบื้อง", {SKILLS}),
    ],
)
def test_everyday_vocabulary(classifier: Classifier, text: str, expected: set[NeedType]) -> None:
    assert types_of(classifier.classify(text)) == expected


def test_an_exclusion_that_names_an_unknown_context_is_a_named_error(tmp_path: Path) -> None:
    main = (DEFAULT_LEXICON_DIR / "screening.toml").read_text(encoding="utf-8")
    broken = main.replace('only_with_context = "foreign_worker"', 'only_with_context = "no_such_context"')
    assert broken != main
    path = tmp_path / "screening.toml"
    path.write_text(broken, encoding="utf-8")
    for name in (need_type.value for need_type in NeedType):
        (tmp_path / f"{name}.toml").write_text(
            (DEFAULT_LEXICON_DIR / f"{name}.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    with pytest.raises(LexiconError, match="no_such_context"):
        load_lexicon(tmp_path)


def test_marker_lists_are_loaded() -> None:
    lexicon = load_lexicon()
    assert "และ" in lexicon.negation_scope_end
    assert "ครบถ้วน" in lexicon.concession
