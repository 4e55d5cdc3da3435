"""Name and place material for bench/make_people.py. Every person it builds is invented.

Common UK forenames and surnames are combined at random with invented
syllable surnames and street names, so no generated record describes a real
person. Postcodes start with Q, V or X, letters never used first in a real
UK postcode; phone numbers come only from Ofcom's drama ranges; e-mail
domains are the reserved example.* domains.
"""

FEMALE = """olivia amelia isla ava mia ivy lily isabella sophia grace freya emily ella poppy
charlotte evie sienna daisy phoebe willow elizabeth katherine margaret rebecca jennifer
sarah emma laura rachel hannah jessica lucy amy chloe megan lauren bethany victoria natalie
samantha alexandra catherine helen claire joanne nicola michelle louise kelly stacey gemma
zoe siobhan aoife niamh roisin mairead eilidh catriona morag fiona kirsty ailsa ruth anne
mary susan karen julie angela tracey donna deborah patricia linda carol janet gillian
""".split()

MALE = """oliver george noah arthur leo muhammad harry oscar archie henry theodore freddie jack
charlie thomas william james robert michael christopher alexander daniel matthew andrew
david richard joseph benjamin samuel edward anthony stephen paul mark peter simon jonathan
nicholas timothy philip gary kevin craig stuart scott graham neil ian colin alan keith
sean ciaran declan padraig eoin callum euan fraser hamish angus ross lewis kyle ryan liam
connor jamie dylan aaron adam nathan luke jordan owen rhys gareth dafydd iwan
""".split()

# Forenames whose records may carry a diacritic form.
DIACRITIC_FORENAMES = {"zoe": "Zoë", "sean": "Seán", "aoife": "Aoífe", "niamh": "Níamh", "chloe": "Chloë",
                       "roisin": "Róisín", "padraig": "Pádraig", "eoin": "Eóin", "renee": "Renée"}

# The nickname people actually give; the node must map them back (via the nicknames package).
NICKNAMES = {
    "robert": ["bob", "rob", "bobby"], "william": ["bill", "will", "billy"], "elizabeth": ["liz", "beth", "lizzie"],
    "katherine": ["kate", "kathy", "katie"], "james": ["jim", "jimmy"], "margaret": ["maggie", "meg"],
    "thomas": ["tom", "tommy"], "alexander": ["alex", "sandy"], "christopher": ["chris"], "jennifer": ["jen", "jenny"],
    "michael": ["mike", "mick"], "rebecca": ["becky", "becca"], "richard": ["rick", "dick"], "joseph": ["joe"],
    "benjamin": ["ben"], "samuel": ["sam"], "edward": ["ed", "ted", "eddie"], "anthony": ["tony"], "daniel": ["dan", "danny"],
    "matthew": ["matt"], "andrew": ["andy", "drew"], "david": ["dave", "davy"], "nicholas": ["nick"], "timothy": ["tim"],
    "philip": ["phil"], "stephen": ["steve"], "jonathan": ["jon"], "victoria": ["vicky", "tori"], "samantha": ["sam"],
    "alexandra": ["alex", "sandra"], "catherine": ["cathy", "kate"], "patricia": ["pat", "trish"], "susan": ["sue"],
    "deborah": ["debbie", "deb"], "jessica": ["jess"], "natalie": ["nat"], "gillian": ["gill", "jill"],
}

SURNAMES = """smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson
thompson wright walker white edwards hughes green hall lewis harris clarke patel jackson wood
turner martin cooper hill ward morris moore clark lee king baker harrison morgan allen james
scott phillips watson davis parker price bennett young griffiths mitchell kelly cook carter
richardson bailey collins bell shaw murphy miller cox richards khan marshall anderson simpson
ellis adams singh begum wilkinson foster chapman powell webb rogers gray mason ali hunt
hussain campbell matthews owen palmer holmes mills barnes knight lloyd butler russell barker
fisher stevens jenkins murray dixon harvey graham pearson ahmed fletcher walsh kaur gibson
howard andrews stewart elliott reynolds saunders payne fox ford pearce day brooks west lawrence
cole atkinson bradley spencer gill dawson ball burton obrien watts rose booth perry ryan grant
wells armstrong francis rees hayes hart hudson newman barrett webster hunter gregory carr
lowe page marsh riley dunn woods parsons berry stone reid holland hawkins harding porter
robertson newton oconnor bates burns kennedy wallace macdonald mackenzie mcleod macleod mckay
macintyre mcgregor maclean mclaughlin mccarthy mcbride oneill odonnell oreilly osullivan
""".split()

# Display forms for surnames whose spelling varies in records (Mc/Mac, O').
SURNAME_FORMS = {
    "obrien": ["O'Brien", "OBrien", "O Brien", "O’Brien"], "oconnor": ["O'Connor", "OConnor", "O Connor"],
    "oneill": ["O'Neill", "ONeill", "O Neill"], "odonnell": ["O'Donnell", "ODonnell"], "oreilly": ["O'Reilly", "OReilly"],
    "osullivan": ["O'Sullivan", "OSullivan", "O Sullivan"],
    "macdonald": ["MacDonald", "McDonald", "Mc Donald", "Macdonald"], "mackenzie": ["MacKenzie", "McKenzie", "Mackenzie"],
    "mcleod": ["McLeod", "MacLeod", "Mc Leod"], "macleod": ["MacLeod", "McLeod"], "mckay": ["McKay", "MacKay", "Mackay"],
    "macintyre": ["MacIntyre", "McIntyre"], "mcgregor": ["McGregor", "MacGregor"], "maclean": ["MacLean", "McLean"],
    "mclaughlin": ["McLaughlin", "MacLaughlin"], "mccarthy": ["McCarthy", "MacCarthy"], "mcbride": ["McBride", "MacBride"],
}

DIACRITIC_SURNAMES = ["Müller", "Nowak", "Kowalski", "Ó Briain", "Núñez", "Søndergård", "Gonçalves", "Dvořák",
                      "Łukasik", "Ní Bhriain", "Szabó", "Kovačević", "Pérez", "Åström", "Öztürk"]

SYLLABLES_A = "brack tam wens ald hol mer crad fen lin pol rath sten thorn wick ash bel cor dun ell far gar hal".split()
SYLLABLES_B = "ford well by ton ley more stead wick worth ham den shaw field brook cott hurst lock mere ridge".split()

STREETS_A = "acorn beacon birch castle cedar chapel church clover elm fern forge glebe hawthorn heather holly ivy juniper laurel linden maple meadow mill oak orchard poplar quarry rowan spring station willow yew".split()
STREETS_B = "street road lane avenue close drive crescent gardens grove place terrace way court view".split()
TOWNS = "ashby brackwell cranmoor dunlow eastwick fenford glenholm harrowby inchmere kelbrook".split()

# Ofcom drama ranges: (prefix, first number) each holding 1,000 numbers.
DRAMA_RANGES = [
    ("07700 900", 0), ("01632 960", 0), ("0113 496 0", 0), ("0114 496 0", 0), ("0115 496 0", 0),
    ("0116 496 0", 0), ("0117 496 0", 0), ("0118 496 0", 0), ("0121 496 0", 0), ("0131 496 0", 0),
    ("0141 496 0", 0), ("0151 496 0", 0), ("0161 496 0", 0), ("020 7946 0", 0), ("028 9649 6", 0),
    ("029 2018 0", 0), ("0191 498 0", 0),
]
