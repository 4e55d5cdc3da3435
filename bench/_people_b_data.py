"""Reference data for make_people_b: names, variants, places, number ranges.

Names alone are not personal data; every combination the generator makes is
invented. Lists are ordered roughly by frequency (most common first); the
generator weights them with a Zipf-like curve, so each pool has a heavy head
and a long tail. British surname order follows the leading-surname tables
(Smith 1.2-1.4%, Jones about 1%: surnamestudies.org.uk comparative tables,
1853-1996); a synthetic tail of English place-name surnames (Ashworth,
Thornley, ...) stands in for the thousands of rare names.

Places are invented: towns and streets are made up, postcode areas are
letter pairs that no real UK postcode area uses (NM, RX, EV, KE, KB, GX, WB,
WJ, SH, SX, MF, MX, FM, FX, LW, LX) in the real shape (outward + inward code,
inward letters without C, I, K, M, O, V). Phone numbers come from Ofcom's
ranges reserved for drama (mobile 07700 900000-900999; 01632 960xxx; city
ranges such as 0113 496 0xxx) while they last; see the generator docstring.
E-mail domains end in the reserved TLD .example (RFC 2606).
"""

from __future__ import annotations

# ------------------------------------------------------------------ pools
# Shares of the population by naming tradition: approximate, after the 2021
# Census of England and Wales ethnic-group shares (White British about 74%,
# White Irish 1%, White Other 6% (Polish, Romanian, Lithuanian), Asian 9%
# (Indian 3%, Pakistani 3%, Bangladeshi 1%, Chinese 0.7%), Black 4% (African
# 2.5%, Caribbean 1%), Arab 0.6%).
POOL_SHARES = {
    "british": 0.775, "irish": 0.02, "polish": 0.03, "romanian": 0.012, "lithuanian": 0.008,
    "south_asian_muslim": 0.05, "sikh": 0.015, "hindu": 0.015, "somali": 0.01, "west_african": 0.022,
    "caribbean": 0.015, "chinese": 0.008, "arabic": 0.012, "turkish_kurdish": 0.008,
}

BRIT_MALE_OLD = """David John Paul Mark Michael Andrew Stephen Peter Robert Ian Richard Gary Christopher
Anthony Steven Kevin Simon James Martin Darren Neil Alan Lee Philip Jason Wayne Stuart Colin Brian Graham
Keith Dean Craig Shaun Carl Nigel Jonathan Timothy Matthew Adrian Karl Trevor Barry Terence Kenneth Raymond
Russell Nicholas Daniel Thomas William Sean Scott Jeffrey Gordon Roy Derek Malcolm Julian Clive Glen Duncan
Ross Gareth Jamie Damian Leslie Dominic Warren Francis Patrick Hugh Vincent Roger Geoffrey Howard Douglas
Edward Ronald Gerald Dennis Frank Mervyn Lloyd Gavin Jeremy Bernard Leonard Norman Stanley Alistair Lindsay""".split()
BRIT_MALE_YOUNG = """Daniel James Thomas Christopher Matthew Joshua Ryan Jack Luke Adam Michael Liam Jordan Samuel
Connor Lewis Callum Jamie Kieran Bradley Jake Benjamin Nathan Robert Andrew David Joseph Aaron Ashley Craig
Lee Dean Scott Sean Mark Jonathan Alexander William Harry Charlie George Oliver Kyle Reece Shane Jason Steven
Paul Darren Wayne Tyler Dylan Ethan Mason Owen Rhys Declan Alfie Billy Kai Brandon Cameron Jay Karl Marcus
Nathaniel Elliot Max Henry Archie Leon Corey Dale Jamal Frederick Zachary Harrison Louis Joel Morgan Toby""".split()
BRIT_FEMALE_OLD = """Susan Julie Karen Tracey Sarah Amanda Nicola Michelle Lisa Claire Helen Deborah Alison Angela
Joanne Elizabeth Jacqueline Sharon Catherine Jane Diane Mary Margaret Emma Kelly Rachel Donna Dawn Gillian
Louise Samantha Wendy Caroline Patricia Christine Linda Teresa Anne Sandra Tina Nicole Jennifer Rebecca Zoe
Paula Maria Janet Lorraine Beverley Denise Joanna Victoria Kim Sally Suzanne Lesley Anita Yvonne Marie Carol
Pauline Heather Kathleen Sheila Maureen Lynn Brenda Andrea""".split()
BRIT_FEMALE_YOUNG = """Jessica Sophie Emily Rebecca Laura Hannah Charlotte Amy Lauren Chloe Emma Sarah Danielle Megan
Gemma Jade Stacey Kirsty Natalie Rachel Katie Leanne Amber Shannon Abigail Holly Bethany Samantha Jodie Victoria
Kayleigh Zoe Nicola Stephanie Hayley Jennifer Lucy Georgia Ellie Courtney Paige Melissa Natasha Kimberley Alice
Olivia Grace Amelia Ella Mia Leah Jasmine Caitlin Eleanor Katherine Alexandra Charlene Tanya Demi Toni Chelsea
Kerry Lindsey Carly Rosie Molly Freya Jasmin""".split()
BRIT_SURNAMES = """Smith Jones Williams Taylor Brown Davies Evans Thomas Wilson Roberts Johnson Robinson Wright
Thompson Walker White Edwards Green Hall Wood Harris Hughes Lewis Martin Jackson Clarke Clark Turner Hill Scott
Cooper Morris Ward Moore King Watson Baker Harrison Morgan Young Allen Mitchell James Anderson Phillips Lee
Bell Parker Davis Kelly Shaw Bennett Griffiths Cook Price Richardson Carter Bailey Collins Murphy Marshall Cox
Richards Gray Adams Ellis Wilkinson Foster Mason Russell Chapman Webb Rogers Hunt Mills Holmes Palmer Owen
Lloyd Powell Barnes Knight Butler Fisher Dixon Simpson Stevens Jenkins Pearson Fletcher Graham Reid Matthews
Lawrence Harvey Gibson Hunter Ross Stewart Campbell Murray MacDonald McDonald Kennedy Paterson Fraser
Robertson Gordon Hamilton Ferguson McKenzie MacLeod McLean Grant Black Cunningham Sutherland Duncan Kerr
McIntyre Morrison Chambers Spencer Armstrong Pearce Walsh Burton Cole Moss Booth Atkinson Lamb Sharp Dawson
Hart Hudson Lane Parry Rees Vaughan Pritchard Howells Hopkins Bevan Barker Newton Holland Stone Wells Marsh
Lowe Saunders Day Payne Berry Fox Reynolds Burns Doyle Brennan Slater Whitehead Pickering Hargreaves Ashworth
Greenwood Holt Kershaw Sutcliffe Ackroyd Hirst Barraclough Crossley Ramsbottom Oldroyd Higginbottom Clegg
Cartwright Fairclough Tattersall Butterworth Lomax Heywood Sowerby Smyth Thomson Reed Grey Philips Stephens
Mathews McAllister McGregor MacKay McNeil O'Hara""".split()
SURNAME_TAIL_HEADS = """Ash Black Brad Bram Brook Burn Cald Clay Cold Crab Dun Fair Fen Gold Green Hal Hazel
Heath Hol Horn Kirk Lang Lin Mar Mid Mor Nor Oak Pen Rad Ram Rid Roth Rush Sal Shel Stan Stock Sut Thorn
Tod Wal West Whit Wick Win Wor Yar Bar Cot Hep Ing Lever Pick Saw Stain Ted Thurs Ux""".split()
SURNAME_TAIL_TAILS = """by croft dale field ford gate ham hurst ington ley more ridge shaw stone thorpe ton well
wick worth bury combe den fold hall""".split()

IRISH_MALE = """Sean Patrick Liam Ciaran Declan Eoin Niall Cormac Padraig Seamus Colm Darragh Cian Oisin Ronan
Brendan Conor Kieran Fergal Donal Eamon Shane Aidan Dermot Kevin Michael John Brian Gerard Martin""".split()
IRISH_FEMALE = """Siobhan Aoife Niamh Sinead Caoimhe Roisin Orla Grainne Aisling Ciara Deirdre Maeve Eimear Clodagh
Saoirse Bridget Mary Catherine Margaret Nuala Fionnuala Aine Roisin Sorcha""".split()
IRISH_SURNAMES = """Murphy Kelly O'Sullivan Walsh O'Brien Byrne Ryan O'Connor O'Neill O'Reilly Doyle McCarthy
Gallagher O'Doherty Kennedy Lynch Murray Quinn Moore McLoughlin O'Carroll Connolly Daly O'Connell Dunne
Brennan Burke Collins Fitzgerald Maguire Nolan Flynn O'Callaghan O'Donnell Duffy O'Mahony Boyle Healy O'Shea
Sweeney Hayes Kavanagh Power McGrath Moran Brady Casey O'Keeffe McMahon MacNamara McManus O'Rourke Devlin
McGuinness Keane""".split()

POLISH_MALE = """Piotr Krzysztof Tomasz Paweł Michał Marcin Łukasz Jakub Mateusz Kamil Adam Marek Grzegorz Wojciech
Dariusz Mariusz Rafał Przemysław Sebastian Bartosz Damian Dawid Szymon Artur Robert Andrzej Jan Zbigniew
Sławomir Jarosław Janusz Arkadiusz Radosław Daniel Konrad Patryk Krystian Maciej Aleksander""".split()
POLISH_FEMALE = """Anna Katarzyna Małgorzata Agnieszka Joanna Magdalena Monika Aleksandra Ewa Karolina Justyna
Natalia Paulina Marta Dorota Beata Barbara Kinga Patrycja Sylwia Izabela Weronika Dominika Emilia Agata
Iwona Renata Wioletta Edyta Żaneta""".split()
POLISH_SURNAMES = """Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek Piotrowski Grabowski Zając
Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski Majewski Olszewski Stępień Malinowski Jaworski
Adamczyk Dudek Nowicki Pawlak Górski Witkowski Walczak Sikora Baran Rutkowski Michalak Szewczyk Ostrowski
Tomaszewski Pietrzak Zalewski Wróblewski Przybylski Chmielewski Szczepański Błaszczyk Sobczak Brzeziński
Zawadzki Sadowski""".split()

RO_MALE = "Andrei Alexandru Ionuț Mihai Florin Adrian Marius Cristian Gheorghe Vasile Constantin Ion Nicolae Bogdan Ciprian".split()
RO_FEMALE = "Elena Maria Ioana Andreea Mihaela Alexandra Cristina Gabriela Raluca Roxana Simona".split()
RO_SURNAMES = """Popescu Ionescu Popa Pop Radu Dumitru Stan Stoica Gheorghe Matei Ciobanu Rusu Munteanu Florea
Constantin Moldovan Lungu Toma""".split()
LT_MALE = "Tomas Mantas Darius Andrius Paulius Vytautas Giedrius Justinas Aurimas Mindaugas".split()
LT_FEMALE = "Rūta Agnė Ieva Greta Kristina Aušra Jurgita Simona Indrė".split()
LT_SURNAMES = """Kazlauskas Jankauskas Petrauskas Stankevičius Vasiliauskas Žukauskas Butkus Paulauskas Urbonas
Kavaliauskas Navickas Ramanauskas""".split()

SAM_MALE = """Mohammed Imran Asif Tariq Zahid Shahid Naveed Adnan Amir Faisal Kamran Usman Bilal Hamza Irfan
Khalid Nadeem Sajid Waqas Zubair Abdul Arif Rizwan Tahir Aftab Javed Saleem Rashid Yasir Ali Hassan Ibrahim
Yusuf Ayub Shakeel Mohsin Sohail Jamil Akbar Rahim Shahed Mizanur Habibur Anwar Jahangir Shafiq Kabir
Abdullah Ahmed""".split()
SAM_FEMALE = """Fatima Ayesha Nazia Shazia Samina Rubina Nasreen Saima Sadia Amina Zainab Maryam Hina Asma
Farzana Rukhsana Shabana Tahira Yasmin Bushra Sana Iqra Noreen Parveen Shamima Rehana Sultana Khadija
Humaira Aisha""".split()
SAM_SURNAMES = """Khan Hussain Ahmed Ali Akhtar Iqbal Mahmood Shah Rahman Islam Uddin Miah Ahmad Butt Malik Raja
Aslam Anwar Bashir Chaudhry Javed Latif Majid Mirza Nawaz Qureshi Rashid Riaz Sadiq Siddiqui Sheikh Yousaf
Zaman Haq Hossain Chowdhury Alam Karim Sarwar Younis Akram Arshad Ashraf Baig Mughal""".split() + [
    "Abdul Rahman", "Ud-Din"]  # two-part family names: the particle rules split and join them

SIKH_MALE = """Harjit Gurpreet Jaswinder Manjit Sukhwinder Kuldip Rajinder Balvinder Amarjit Jagdeep Harpreet
Parminder Ravinder Sandeep Gurdeep Jaspal""".split()
SIKH_FEMALE = "Kulwinder Rajwinder Amandeep Navdeep Sukhjit Harjinder Gurpreet Manjit Jaswinder Parminder Harpreet".split()
SIKH_SURNAMES = """Gill Sandhu Dhillon Sidhu Johal Bains Grewal Sahota Kang Atwal Bassi Chahal Rai Virdi Bhatti
Dhaliwal Mann Sangha Hayer Chohan""".split()
HINDU_MALE = """Rajesh Sanjay Vijay Amit Rakesh Anil Sunil Ashok Nitin Ravi Vikram Dinesh Mukesh Pritesh Hitesh
Jayesh Kiran Arjun Rohan Nikhil Deepak""".split()
HINDU_FEMALE = """Priya Pooja Anjali Sunita Anita Neeta Rekha Meena Seema Kavita Nisha Shilpa Hema Bhavna Kajal
Reena Asha Nirmala Jyoti Divya""".split()
HINDU_SURNAMES = """Patel Sharma Kumar Mistry Shah Parmar Chauhan Mehta Joshi Desai Lad Solanki Gupta Verma Thakkar
Pandya""".split()

SOMALI_MALE = """Mohamed Abdi Abdullahi Ahmed Ali Hassan Hussein Omar Ibrahim Yusuf Abdirahman Abdirizak Abdikadir
Abdiaziz Mahad Farah Osman Ismail Jama Nur Warsame Elmi Dahir Said Aden Guled Liban Mukhtar Shire Hirsi
Jibril Bashir Awale Duale Mohamud Isse""".split()
SOMALI_FEMALE = """Fadumo Hodan Amina Ayaan Hawa Sahra Khadra Ifrah Ubah Nimco Sagal Deqa Asha Halima Ikran
Faiza Ladan Ruqia Maryan Safiya""".split()

WA_MALE = """Oluwaseun Olumide Adebayo Babatunde Chukwuemeka Chinedu Obinna Ikechukwu Tunde Femi Segun Kunle
Kehinde Taiwo Oluwatobi Ayodele Chidi Uchenna Nnamdi Kwame Kofi Kwabena Yaw Kojo Samuel Emmanuel Daniel David
Joseph Michael Godwin Victor Ifeanyi""".split()
WA_FEMALE = """Folake Funmilayo Adaeze Chiamaka Ngozi Oluwakemi Temitope Bukola Yetunde Abimbola Chioma Nneka
Ifeoma Amaka Blessing Grace Esther Abena Akosua Ama Efua Precious Comfort Patience""".split()
WA_SURNAMES = """Adeyemi Okafor Okonkwo Adebayo Ogunleye Oladipo Afolabi Eze Nwosu Okoro Balogun Bello Ibrahim
Adewale Olawale Akinyemi Oyelaran Chukwu Obi Nwachukwu Ogundipe Babatunde Mensah Asante Owusu Boateng Osei
Agyeman Appiah Addo Darko Ofori Amoah""".split()

CARIB_MALE = """Delroy Leroy Winston Errol Clive Desmond Jermaine Tyrone Marlon Dwayne Anthony Michael Mark Andre
Carlton Lloyd Trevor Courtney Devon Kemar Romario Ricardo Tremaine""".split()
CARIB_FEMALE = """Marcia Beverley Claudette Paulette Sonia Jacqueline Donna Simone Keisha Shanice Tanisha Latoya
Natalie Monique Camille Jody""".split()
CARIB_SURNAMES = """Campbell Brown Williams Thompson Francis Clarke Grant Morgan Stewart Reid Henry Powell Bailey
Robinson Richards Samuels Edwards Gordon Lewis Forbes Bennett Walker Johnson McKenzie Hinds Gayle Beckford
Blackwood Levy Ricketts Pinnock Spence Wint""".split()

CHINESE_MALE = ["Wei", "Jun", "Ming", "Hao", "Jian", "Lei", "Tao", "Yong", "Qiang", "Bin", "Chun", "Kai",
                "Zhi Wei", "Jia Hao", "Wing Kit", "Ka Ming", "Chi Keung", "Siu Ming", "Kwok Wai", "Tsz Hin"]
CHINESE_FEMALE = ["Mei", "Li", "Yan", "Hui", "Jing", "Ling", "Xin", "Ying", "Fang", "Mei Ling", "Siu Mei",
                  "Wai Yee", "Suk Yin", "Lai Ming", "Xiu Ying", "Hoi Yan"]
CHINESE_ENGLISH_MALE = "Jason Kevin Michael Vincent Tony Eric Alan Peter Raymond Kenneth Danny Johnny".split()
CHINESE_ENGLISH_FEMALE = "Mandy Vivian Grace Jenny Cindy Winnie Fiona Karen Connie Angela".split()
CHINESE_SURNAMES = """Chan Wong Lee Cheung Lau Ng Ho Yeung Chow Lam Tang Leung Lo Kwok Chiu Hui Chu Ma Sun Zhao Liu Wang
Zhang Chen Li Yang Huang Lin Wu Zhou""".split()

ARAB_MALE = """Mohammed Ahmed Ali Omar Khaled Mahmoud Mustafa Youssef Hassan Hussein Ibrahim Abdullah Karim Samir
Tariq Walid Nabil Hamza Ziad Faris Rami Bilal Amir Jamal Saif Adel Tamer""".split()
ARAB_FEMALE = """Fatima Mariam Nour Layla Sara Huda Rania Yasmin Amal Hana Dina Salma Reem Lina Aya Zeinab""".split()
ARAB_SURNAMES = """Al-Sayed Hassan Mahmoud Ibrahim Abdullah Al-Ali Haddad Khalil Mansour Nasser Saleh Hamdan Othman
Al-Masri Aziz Darwish Farouk Habib Jaber Mustafa Said Suleiman Youssef Zaki Al-Hashimi Abbas Hussein
El-Amin Abu-Zaid""".split()

TK_MALE = """Mehmet Mustafa Ahmet Ali Hüseyin Hasan İbrahim Murat Emre Serkan Kemal Osman Yusuf Baran Rebwar
Karwan Dilshad Aram Hemin Soran""".split()
TK_FEMALE = """Ayşe Fatma Emine Hatice Zeynep Elif Meryem Özlem Derya Gülsen Shilan Rojin Berfin""".split()
TK_SURNAMES = """Yılmaz Kaya Demir Şahin Çelik Yıldız Yıldırım Öztürk Aydın Özdemir Arslan Doğan Kılıç Aslan
Çetin Kara Koç Kurt Özkan Şimşek Ahmed Mohammed Hussein Karim Rasul Aziz Hama Qadir""".split()

# ------------------------------------------------------------------ short forms
# canonical -> short forms, diminutives and anglicised forms people give.
# Written for this generator; not taken from any nickname library.
_NICK_LINES = """
Robert: Bob Rob Robbie Bobby | William: Bill Will Billy | Richard: Rick Rich Richie Dick
James: Jim Jimmy Jamie | John: Jack Johnny | Michael: Mike Mick Micky | David: Dave Davy
Anthony: Tony Ant | Stephen: Steve | Steven: Steve | Christopher: Chris Kit | Daniel: Dan Danny
Matthew: Matt | Thomas: Tom Tommy | Joseph: Joe Joey | Andrew: Andy Drew | Edward: Ed Eddie Ted
Alexander: Alex Sandy | Benjamin: Ben Benny | Samuel: Sam Sammy | Nicholas: Nick Nicky | Jonathan: Jon Jonny
Timothy: Tim | Peter: Pete | Patrick: Pat Paddy | Francis: Frank Frankie | Lawrence: Larry Laurie
Kenneth: Ken Kenny | Ronald: Ron Ronnie | Gerald: Gerry | Terence: Terry | Raymond: Ray | Nathan: Nate
Nathaniel: Nat Nate | Zachary: Zac Zack | Callum: Cal | Frederick: Fred Freddie | Henry: Harry Hal
Charles: Charlie Chas | Leonard: Len Lenny | Alfred: Alf Alfie | Gary: Gaz | Barry: Baz | Darren: Daz
Sharon: Shaz | Kieran: Kez | Philip: Phil | Douglas: Doug Dougie | Donald: Don Donny | Stuart: Stu
Bradley: Brad | Joshua: Josh | Jacob: Jake | Oliver: Ollie | Harrison: Harry | Lewis: Lew | Archibald: Archie
Katherine: Kate Katie Kath | Catherine: Cath Cathy Kate | Elizabeth: Liz Beth Lizzie Betty
Margaret: Maggie Peggy Meg | Rebecca: Becky Bex | Victoria: Vicky Tori | Jennifer: Jenny Jen
Samantha: Sam Sammy | Alexandra: Alex Lexi | Deborah: Debbie Debs | Susan: Sue Suzy | Patricia: Pat Trish
Kimberley: Kim | Natasha: Tash | Nicola: Nicky Nikki | Amanda: Mandy | Christine: Chris Chrissie
Jessica: Jess | Charlotte: Charlie Lottie | Abigail: Abbie Abi | Danielle: Dani | Stephanie: Steph
Jacqueline: Jackie | Gillian: Gill Jill | Caroline: Caz | Eleanor: Ellie | Josephine: Jo Josie | Joanne: Jo
Katarzyna: Kasia | Małgorzata: Gosia Małgosia | Agnieszka: Aga | Aleksandra: Ola | Joanna: Asia
Magdalena: Magda | Tomasz: Tomek Tom | Krzysztof: Krzysiek Chris | Wojciech: Wojtek | Grzegorz: Grzesiek Greg
Piotr: Peter | Paweł: Paul | Jakub: Kuba Jake | Łukasz: Luke | Michał: Michael | Marcin: Martin
Mateusz: Matt | Przemysław: Przemek | Bartosz: Bartek | Dariusz: Darek | Mariusz: Mario
Alexandru: Alex | Ionuț: Johnny | Vytautas: Vytas | Oluwaseun: Seun | Oluwatobi: Tobi | Oluwakemi: Kemi
Chukwuemeka: Emeka | Babatunde: Tunde | Olumide: Mide | Oluwafemi: Femi | Temitope: Tope | Funmilayo: Funmi
Abimbola: Bimbo | Mohammed: Mo | Muhammad: Mo | Abdullahi: Abdi | Abdirahman: Abdi | Ibrahim: Ibby
Mustafa: Musti | Mehmet: Memo | Hüseyin: Huss | Siobhan: Shiv | Patrick: Paddy | Seamus: Shay
Padraig: Paddy Patrick | Cormac: Cor | Fionnuala: Nuala | Delroy: Del | Jermaine: Jay | Tyrone: Ty
"""
NICKNAMES: dict[str, list[str]] = {}
for _line in _NICK_LINES.split("|"):
    for _part in _line.strip().split("\n"):
        if ":" in _part:
            _k, _v = _part.split(":", 1)
            _known = NICKNAMES.setdefault(_k.strip(), [])
            _known.extend(n for n in _v.split() if n not in _known)

# ------------------------------------------------------------------ variants
# Transliteration groups (and English spelling alternatives below): one
# person's name may be written as any member. The first is the most common.
_VARIANT_LINES = """
Mohammed Muhammad Mohamed Mohammad Muhammed Mohamad Mohd Mahomed Maxamed
Ahmed Ahmad Ahmet Axmed | Hussain Hussein Husain Hossain Husein Xuseen | Hassan Hasan Xasan
Mahmood Mahmud Mahmoud Mehmood | Abdirahman Abdulrahman Abdurahman Cabdiraxmaan
Abdullahi Abdullah Abdalla Cabdullahi | Yusuf Yousef Youssef Yousuf Yusef | Ibrahim Ebrahim Ibraheem İbrahim
Omar Umar Omer Cumar | Osman Usman Othman Uthman Cismaan | Ali Aly Cali | Mustafa Mustapha Mostafa
Fatima Fatma Fatimah Fadumo | Aisha Ayesha Aysha Aishah Ayşe | Maryam Mariam Maryan Meryem
Zainab Zeinab Zaynab | Yasmin Yasmine Yasmeen Jasmin | Amina Aminah Ameena | Khadija Khadijah Hatice
Rahman Rehman Rahmaan | Chaudhry Choudhury Chowdhury Chaudhary Choudhry | Qureshi Quraishi Koreshi
Siddiqui Siddiqi Siddique Saddique | Uddin Udin Ud-Din | Miah Mia Meah | Yousaf Yousuf Yusaf
Hüseyin Huseyin Hussein | Mehmet Mehmed | Abdi Cabdi | Jama Jaamac | Nur Nuur Noor
Aleksander Alexander Aleksandr | Aleksandra Alexandra | Ionuț Ionut | Gheorghe George
Chan Chen Chin | Wong Wang Huang Vong | Lee Li Lei | Cheung Zhang Chang Cheong | Lau Liu Lao
Ng Wu Eng | Ho He | Yeung Yang | Chow Zhou Chau Chou | Lam Lin Lim | Tang Deng Teng | Leung Liang
Lo Luo Law | Kwok Guo Kuo | Chiu Zhao Chao | Hui Xu Hsu | Chu Zhu Choo
Sean Seán Shaun Shawn | Siobhan Siobhán Shivaun | Niamh Neve Neeve | Seamus Séamus Shamus
Ciaran Ciarán Kieran Kieron | Roisin Róisín Rosheen | Eoin Owen Eoghan | Darragh Dara Darra
Oisin Oisín Osheen | Grainne Gráinne Grania | Sinead Sinéad Shinead | Caoimhe Keeva | Eamon Éamonn Eamonn
"""
_SPELLING_LINES = """
Steven Stephen | Geoffrey Jeffrey Jeffery | Philip Phillip | Sarah Sara | Rachel Rachael
Tracey Tracy Tracie | Kelly Kelley | Michelle Michele | Lindsay Lindsey Linsey | Leanne Lianne Leann
Kayleigh Kayley Kaylee Caleigh | Jodie Jodi Jody | Zoe Zoë Zoey | Hayley Haley Hailey | Carl Karl
Brian Bryan | Alan Allan Allen | Graham Graeme Grahame | Matthew Mathew | Nicola Nichola
Catherine Katherine Kathryn Katharine | Anne Ann | Claire Clare | Jasmine Jasmin | Lewis Louis
Clarke Clark | Thompson Thomson | Phillips Philips | Davies Davis | Reid Reed Read | Gray Grey
Stevens Stephens | Matthews Mathews | Mensah Mensa | Oluwaseun Oluseun
"""


def _groups(lines: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for group in lines.replace("\n", "|").split("|"):
        names = tuple(group.split())
        for name in names:
            out.setdefault(name, names)
    return out


VARIANTS = _groups(_VARIANT_LINES)  # transliteration and Gaelic/English renderings of one name
SPELLINGS = _groups(_SPELLING_LINES)  # English spelling alternatives a clerk may pick (Steven/Stephen)

# ------------------------------------------------------------------ monikers
MONIKERS = ["Tiny", "Lofty", "Ginge", "Spider", "Tank", "Bomber", "Snowy", "Skinny", "Biggie", "Chalky",
            "Dusty", "Nobby", "Spud", "Smudge", "Bruiser", "Mad Dog", "Little Man", "Big Man", "Youngy", "Milky",
            "Fats", "Ghost", "Shadow", "Razor", "Taz", "Psycho", "Popeye", "Bugsy", "Chopper", "Sparky",
            "Stretch", "Bones", "Moose", "Rocky", "Dodger"]
FEMALE_MONIKERS = "Tiny Ginge Blondie Red Sparky Dolly Bunny Trixie".split()

# ------------------------------------------------------------------ places
STREET_HEADS = """Ash Beech Bramble Chantry Coppice Dene Elm Fern Foxglove Gorse Heather Holly Juniper Kestrel
Larch Linnet Marl Meadow Mill Nettle Oak Orchard Quarry Rook Rowan Sandpiper Sorrel Tansy Thistle Wren
Yarrow Alder Badger Cobble Drover Ember Flax Goldcrest Harebell Ivy Kingfisher Lapwing Mallow Nightjar
Otter Plover Quince Reed Sedge Teasel Vetch Willow Bracken Cinder Dyer Fuller Glover Mason Potter Tanner""".split()
STREET_TAILS = ["", "field", "wood", "ley", "dale", "bank", "croft", "gate", "hurst", "well", "brook", "moor",
                "ridge", "side", "holme"]
STREET_TYPES = [("Road", 30), ("Street", 22), ("Avenue", 8), ("Close", 10), ("Crescent", 5), ("Drive", 7),
                ("Lane", 7), ("Way", 5), ("Gardens", 3), ("Court", 3), ("Grove", 3), ("Terrace", 3),
                ("Place", 2), ("Walk", 1), ("Mews", 1), ("Rise", 1), ("View", 1)]
STREET_ABBREV = {"Road": "Rd", "Street": "St", "Avenue": "Ave", "Close": "Cl", "Crescent": "Cres",
                 "Drive": "Dr", "Lane": "Ln", "Gardens": "Gdns", "Court": "Ct", "Grove": "Gr",
                 "Terrace": "Terr", "Place": "Pl"}
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the real inward-code alphabet (no C I K M O V)

# id, country, towns, postcode areas, landline prefixes of Ofcom's drama ranges
AREAS = [
    ("northmoor", "england", ["Northmoor", "Skelthwaite", "Ravensholme", "Cragley Bridge"], ["NM", "RX"],
     ["0113 496", "0191 498"]),
    ("eastvale", "england", ["Eastvale", "Marlingham", "Fenby St Giles", "Hollowcross"], ["EV", "KE"],
     ["0116 496", "0115 496"]),
    ("kelbrae", "scotland", ["Kelbrae", "Inverlochty", "Drumwhinnie", "Balcorran"], ["KB", "GX"],
     ["0131 496", "0141 496"]),
    ("westbridge", "england", ["Westbridge", "Coldharbour Vale", "Pennock", "Abbotsmere"], ["WB", "WJ"],
     ["0117 496", "029 2018"]),
    ("southholm", "england", ["Southholm", "Tarrant Leigh", "Brimsworth", "Kingsfold"], ["SH", "SX"],
     ["020 7946", "0118 496"]),
    ("midford", "england", ["Midford", "Ashby Parva", "Wellowby", "Caxton End"], ["MF", "MX"],
     ["0121 496", "0114 496"]),
    ("fenmarsh", "england", ["Fenmarsh", "Saltney Fen", "Witheridge", "Crowland Cross"], ["FM", "FX"],
     ["01632 96", "0161 496"]),
    ("lowdale", "england", ["Lowdale", "Garthby", "Swaleholme", "Kettlewick"], ["LW", "LX"],
     ["0151 496", "0161 496"]),
]
# Landlines are prefix + 4 digits; Ofcom reserves 0000-0999 of each landline
# prefix below (01632 960000-960999, 0113 496 0000-0999, ...) and 07700 900000-900999 for mobiles.
# Mobiles are prefix + 5 digits; when 07700 9xxxxx fills up, 07700 8xxxxx and so on (not reserved).
MOBILE_PREFIXES = ["07700 9", "07700 8", "07700 7", "07700 6", "07700 5", "07700 4"]

EMAIL_DOMAINS = [("gmail.example", 38), ("hotmail.example", 22), ("outlook.example", 10),
                 ("yahoo.example", 8), ("icloud.example", 7), ("live.example", 5), ("btinternet.example", 4),
                 ("sky.example", 3), ("aol.example", 2), ("wp.example", 1)]
# typos stay in the first label: the reserved .example TLD is never mistyped into a real one
EMAIL_DOMAIN_TYPOS = {"gmail.example": ["gmial.example", "gmal.example", "gmaill.example"],
                      "hotmail.example": ["hotmial.example", "hotnail.example", "hotmai.example"],
                      "outlook.example": ["outlok.example"], "yahoo.example": ["yaho.example"]}

# ------------------------------------------------------------------ keyboard and sounds
_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
KEY_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_ROWS):
    for _i, _ch in enumerate(_row):
        near = [_row[j] for j in (_i - 1, _i + 1) if 0 <= j < len(_row)]
        for _rr in (_r - 1, _r + 1):
            if 0 <= _rr < len(_ROWS):
                near += [_ROWS[_rr][j] for j in (_i - 1, _i, _i + 1) if 0 <= j < len(_ROWS[_rr])]
        KEY_NEIGHBOURS[_ch] = "".join(near)

# sound-alike rewrites (pattern -> replacement), as a clerk spells a name heard aloud
PHONETIC_RULES = [
    ("ph", "f"), ("ck", "k"), ("ie", "y"), ("y", "ie"), ("ey", "y"), ("ou", "ow"), ("ei", "ie"), ("ie", "ei"),
    ("ll", "l"), ("tt", "t"), ("nn", "n"), ("ss", "s"), ("mm", "m"), ("rr", "r"), ("th", "t"), ("ai", "ay"),
    ("ee", "ea"), ("ea", "ee"), ("oo", "u"), ("wr", "r"), ("kn", "n"), ("gh", ""), ("sch", "sh"), ("x", "ks"),
    ("z", "s"), ("son", "sen"), ("i", "y"), ("c", "k"), ("k", "c"), ("w", "v"), ("j", "y"), ("sz", "sh"),
    ("cz", "ch"), ("aw", "or"), ("er", "a"), ("an", "en"), ("ine", "een"), ("ah", "a"), ("dh", "d"), ("q", "k"),
]
