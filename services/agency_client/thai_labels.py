"""Thai names of agencies and need types, as provincial staff read them."""

from shared.contracts.need_types import Agency, NeedType

AGENCY_TH = {
    Agency.DOE: "สำนักงานจัดหางานจังหวัด",
    Agency.DSD: "สถาบัน/สำนักงานพัฒนาฝีมือแรงงาน",
    Agency.SSO: "สำนักงานประกันสังคมจังหวัด",
    Agency.DLPW: "สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด",
    Agency.MOL: "สำนักงานแรงงานจังหวัด",
}

NEED_TYPE_TH = {
    NeedType.JOBS: "หางาน/จัดหางาน",
    NeedType.SKILLS: "ฝึกอาชีพ/พัฒนาฝีมือแรงงาน",
    NeedType.SS40: "ประกันสังคมมาตรา 40",
    NeedType.UNFAIR_LABOUR: "ค่าจ้าง/เลิกจ้าง/คุ้มครองแรงงาน",
    NeedType.MIGRANT_LABOUR: "แรงงานต่างด้าว",
    NeedType.DRUGS_WORKPLACE: "ยาเสพติดในสถานประกอบการ",
}

OVERDUE_TH = {
    "not_accepted": "ยังไม่รับเรื่องภายในกำหนด",
    "not_resolved": "ยังไม่แก้ไขแล้วเสร็จภายในกำหนด",
}
