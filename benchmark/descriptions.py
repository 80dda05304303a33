"""What volunteers write: description templates for every need type, and ones that fit none.

Templates are data, as a volunteer would type them; ``{months}``-style slots get numbers and
each text gets an opening and a closing, so that a run is not a few dozen strings repeated.
"""

# (what the text is about, template); the label is for the report, not for the classifier.
TEMPLATES: tuple[tuple[str, str], ...] = (
    ("jobs", "ตกงานมา {months} เดือน อยากหางานทำใกล้บ้าน"),
    ("jobs", "ลูกชายเรียนจบ ปวส. มา {months} เดือนแล้ว ยังไม่มีงานทำ ขอให้ช่วยหางาน"),
    ("jobs", "อยากไปทำงานเกาหลี สอบถามขั้นตอนการสมัครและการสอบภาษาเกาหลี"),
    ("jobs", "ผู้สูงอายุ {age} ปี ยังแข็งแรง ต้องการงานพาร์ทไทม์"),
    ("jobs", "โรงงานในพื้นที่ปิดตัว คนว่างงานประมาณ {people} คน ต้องการทราบตำแหน่งงานว่าง"),
    ("jobs", "I lost my job {months} months ago and I am looking for work near home"),
    ("skills", "อยากฝึกอาชีพช่างเชื่อม หลักสูตรระยะสั้น {days} วัน"),
    ("skills", "อยากเข้าอบรมพัฒนาฝีมือแรงงาน หลักสูตรช่างไฟฟ้าภายในอาคาร"),
    ("skills", "ต้องการทดสอบมาตรฐานฝีมือแรงงานสาขาช่างปูน ระดับ {level}"),
    ("skills", "กลุ่มแม่บ้าน {people} คน อยากอบรมทำขนมไทยเพื่อเป็นอาชีพเสริม"),
    ("skills", "เกษตรกรอยากเรียนซ่อมเครื่องยนต์เล็กไว้ใช้ในไร่"),
    ("ss40", "อยากสมัครประกันสังคมมาตรา 40 จ่ายเงินสมทบเดือนละ {contribution} บาท ได้ไหม"),
    ("ss40", "แม่ค้าขายของในตลาดนัด อยากเป็นผู้ประกันตน ม.40"),
    ("ss40", "ไรเดอร์ส่งอาหาร สอบถามสิทธิประกันสังคมมาตรา 40 ทางเลือกที่ {option}"),
    ("ss40", "ผู้ประกันตนมาตรา 40 ป่วยนอนโรงพยาบาล {days} วัน จะเบิกเงินทดแทนอย่างไร"),
    ("unfair_labour", "นายจ้างค้างจ่ายค่าจ้าง {months} เดือน ลูกจ้าง {people} คน"),
    ("unfair_labour", "ถูกเลิกจ้างโดยไม่ได้รับค่าชดเชย ทั้งที่ทำงานมา {years} ปี"),
    ("unfair_labour", "โรงงานให้ทำงานล่วงเวลาทุกวันแต่ไม่จ่ายค่าล่วงเวลา"),
    ("unfair_labour", "พบแรงงานเด็กอายุ {child_age} ปี ทำงานในร้านอาหารตอนกลางคืน"),
    ("unfair_labour", "ได้ค่าแรงวันละ {wage} บาท ต่ำกว่าค่าแรงขั้นต่ำ"),
    ("migrant_labour", "แรงงานต่างด้าวชาวเมียนมา {people} คน ทำงานโดยไม่มีใบอนุญาตทำงาน"),
    ("migrant_labour", "นายจ้างยึดหนังสือเดินทางของแรงงานข้ามชาติชาวกัมพูชาไว้"),
    ("migrant_labour", "แรงงานลาวต้องการต่ออายุใบอนุญาตทำงานที่จะหมดใน {days} วัน"),
    ("drugs_workplace", "พบการเสพยาบ้าในโรงงาน ช่วงกะดึก"),
    ("drugs_workplace", "มีคนงานในไซต์ก่อสร้างลักลอบขายยาเสพติด"),
    ("drugs_workplace", "สถานประกอบการ {people} คน อยากเข้าร่วมโครงการโรงงานสีขาว"),
    ("several", "แรงงานต่างด้าวชาวเมียนมาถูกนายจ้างค้างจ่ายค่าจ้าง {months} เดือน"),
    ("several", "ถูกเลิกจ้างแล้วอยากหางานใหม่ และอยากสมัครประกันสังคมมาตรา 40"),
    ("several", "ตกงานมา {months} เดือน อยากฝึกอาชีพช่างซ่อมแอร์"),
    ("none", "ขอบคุณครับ"),
    ("none", "สอบถามข้อมูลเพิ่มเติม รบกวนโทรกลับด้วยค่ะ"),
    ("none", "ฝากเรื่องถนนในหมู่บ้านชำรุด มีหลุมลึก"),
    ("none", "Please call me back about my case"),
    ("none", "ကျွန်တော် အကူအညီ လိုအပ်ပါတယ်"),
)

# Who reports it and what they add: wrapped around a template so the same need reads differently.
OPENINGS: tuple[str, ...] = ("", "", "ผู้ร้องแจ้งว่า ", "ชาวบ้านแจ้ง อสร. ว่า ", "ญาติแจ้งว่า ")
CLOSINGS: tuple[str, ...] = ("", "", " ขอให้เจ้าหน้าที่ติดต่อกลับ", " เรื่องด่วน", " (บันทึกจากการลงพื้นที่)")

# Value ranges for the template slots.
SLOT_RANGES: dict[str, tuple[int, int]] = {
    "months": (1, 12),
    "age": (60, 75),
    "people": (2, 80),
    "days": (3, 60),
    "level": (1, 3),
    "contribution": (70, 300),
    "option": (1, 3),
    "years": (1, 25),
    "child_age": (11, 14),
    "wage": (150, 300),
}
