"""What reps type, and what the library says: field shorthand, synonyms and domain terms.

Written from how pharma field teams write call notes and from the library's own concepts
(payer, hub, clinical and office vocabulary), never as a patch for one labelled note: an entry
must make sense to someone who has not read the development set, and the held-out notes were
never read. Expansions apply to notes and library alike, so a key also maps the library's own
word onto the shared concept.

Each line is `keys | expansion`: a key is a word or a few neighbouring words as `words()` splits
them ("p&t" is "p t", "f/u" is "fu"); the longest key that matches wins. An expansion that
should keep the key's own meaning repeats it, and a plural of a one-word key (BVs, LMNs)
expands like the key.
"""

SHORTHAND = """
pa, prior auth, priorauth | prior authorization
auth | authorization
epa | electronic prior authorization
cmm, covermymeds | electronic prior authorization portal
reauth, recert, reauthorization, recertification | renewal reauthorization expire
renewal, renew | renewal reauthorization
p2p | peer to peer review
lmn, lomn | letter medical necessity
bv | benefit verification
pap | patient assistance program
free drug | patient assistance program
oop | out of pocket cost
ql | quantity limit
qty | quantity
pdl | preferred drug list formulary
formulary | formulary coverage
nf, nonformulary | non formulary
step edit, fail first | step therapy
ntm | new to market
aic | alternate infusion site of care
home infusion | home infusion site of care
bridge, quickstart, quick start | bridge interim supply
pbm, caremark, optum, express scripts | pbm payer
insurance, insurer, ins | insurance payer coverage
commercial | commercial insurance
medicare, part d, mapd | medicare
medicaid, mco | medicaid
donut hole, catastrophic | medicare out of pocket cost
m3p | medicare payment plan
hdhp | high deductible
deductible | deductible cost
coinsurance | coinsurance cost
accumulator, maximizer | copay accumulator
copay | copay cost
copay card, savings card | copay card
foundation, paf | foundation assistance
uninsured, underinsured | uninsured assistance
eob | explanation benefits statement
afford, affordable, unaffordable | cost affordability
expensive, pricey | cost
price, prices, pricing | price cost
owe, owes, owed | bill cost
denied, denials | denial
said no, turned down, kicked back | denial
bounced, bouncing | rejected denial
appeal | appeal denial
pending | pending decision
nrx, new start | new patient start
first start | first patient start
trx | prescription
rx, script, escript | prescription
erx, eprescribe, eprescribing, surescripts | electronic prescription
write, writes, wrote, written, writing | write prescribe
dr, doc, md, physician, doctor | hcp
np | nurse practitioner
ma | medical assistant
rn, lpn | nurse
om | office manager
mgr | manager
office mgr, practice mgr | office manager
front desk, receptionist | front desk gatekeeper
biller, billers | billing staff
staff | staff office
your people, you guys | company contacts
kol | thought leader
msl | msl medical scientific
frm | reimbursement
kam | payer account manager
pal | patient access liaison
rep | representative
pharm | pharmacy
rph, pharmd | pharmacist
sp | specialty pharmacy
retail, drugstore, cvs, walgreens | retail pharmacy
mail order | pharmacy delivery
hub | hub support program
support program, patient services | hub support program
enroll, enrollment, sof | enrollment form
fax, faxed, faxing | fax paperwork
paperwork | paperwork forms
forms | forms paperwork
portal | portal
login, log in, password | portal login
vm, voicemail | voicemail
email | email
virtual, telehealth, telemed, zoom | virtual telehealth
lunch | lunch access
dinner, dinners, speaker program | program event
webinar | webinar program
no see, nosee | no see policy reps
appt | appointment
badge, vendormate, reptrax | credentialing vendor badge
idn, health sys, hospital system | health system
p t | formulary committee pharmacy therapeutics
acquired, bought, merged, acquisition | acquired health system
buy and bill, bnb, b b | buy and bill
jcode, hcpcs, cpt, icd, icd10 | billing code
ndc | product code wholesaler
ehr | emr electronic record
emr, epic, cerner | emr electronic record order set
bpa | emr alert
order set, orderset, smartset | order set
uptodate, lexicomp, micromedex, epocrates | drug reference database
chatgpt, chatbot | online ai source
google, googled, webmd | online search source
reddit, facebook, tiktok, youtube, forum | social media online
interpreter, translator | interpreter language
caregiver, son, daughter, husband, wife, spouse, fam | caregiver family
geri, geriatric, elderly, seniors | older patient
peds, pediatric, kids, teen, teens, adolescent | pediatric young
residents, trainees, residency, fellowship | trainee fellow resident
chief, division head, dept head | chief leader
pt, patient | patient
dx, dxd, diagnosed | diagnosis
undiagnosed, misdiagnosed, underdiagnosed | undiagnosed diagnosis
tx | treatment
hx | history
fu | follow up
pcp | primary care
fp | family practice primary care
im | internal medicine
gi, gastro | gastroenterology
derm | dermatology
onc, oncs, hemeonc, heme, cancer, chemo | oncology
cards | cardiology
rheum | rheumatology
neuro | neurology
ae, sae | side effect safety adverse event
se | side effect
nausea, rash, diarrhea, headache, fatigue, isr | side effect
infection, infections, malignancy | safety side effect
bbw | boxed warning safety
black box | boxed warning
rems | safety program certification
isi | safety information
labs, bloodwork, lfts, cbc | lab monitoring
tb, quantiferon, hbv | screening test
mutation, ngs, genomic, biomarker | biomarker test result
das28, cdai, pasi, easi, haq, bsa, sledai | disease activity score
flare, flares, flaring, relapse | flare symptom disease activity
responder, responders, responding, respond | response
durable, durability, long term | long term durability
moa | mechanism of action
h2h, head to head | head to head comparison
nma | network meta analysis indirect comparison
rwe | real world evidence data
pfs | progression free survival endpoint
os | overall survival
nnt | number needed treat
abs | absolute
dialysis, ckd, pregnant, pregnancy, breastfeeding | population not studied
comorbid, comorbidities, polypharmacy, ddi, cyp, cyp3a, cyp3a4 | interaction medications
meds, med, medication | medicine
regimen | therapy regimen
offlabel, off label | unapproved off label
unsolicited | unsolicited unapproved off label medical request
mir | medical information request
req | request
q | question
info | information
iis, iit | investigator study research
nccn, acr, asco, esmo, aga, aad | guidelines
congress, abstract, poster | congress meeting data
pipeline | pipeline
ph3, ph2, phase 3, phase 2 | phase pipeline
readout | phase pipeline data
mtx, methotrexate | methotrexate conventional older drug
jak, tnf, il17, il23, biologic, biologics | biologic agent
biosim, biosimilar | biosimilar
generic | generic
comp, competitor, competition | competitor
compounded, compounding, 503b, knockoff | compounded
switch, switched | switch
trial | trial study
data | data evidence
label | label
dosing, dose | dose
titration, titrate | titration dose
pen, autoinjector, syringe, device | device pen
inj, shot, shots | injection
iv, inf | infusion
oral, pill, pills, tablet | oral pill
needle, needles | needle injection
phobia, phobic, scared, afraid, terrified, nervous | fear
fridge, refrigerator, cold chain | fridge storage
delivery, shipment, shipped, fedex | delivery shipment
refill, refills, refilled | refill fill persistence
fill, fills, filled | fill
1st | first
2nd | second
3rd | third
4th | fourth
maint | maintenance
adherence, compliance, persistence, nonadherent, noncompliant | adherence persistence
quit, stopped, dc, discontinued, drop off, fall off, dropped off | stop discontinue
abandon, abandoned, abandonment | abandoned
missed | miss dose
sample, samples | sample
referral, refer, referring, referred | referral
er, ed, hospitalized, admitted, inpatient, hospitalist | emergency hospital
hosp | hospital
sys | system
dept | department
univ | university academic
academic, university, med center | academic center
mtg | meeting
btwn | between
w | with
wo | without
bc | because
abt | about
vs | versus
alt, plan b | alternative
chart, charts, documented, documentation | chart documentation
typo, misspelled, dob | typo mismatch
signature, signed, sig, wet signature | signature
consent, hipaa | consent privacy
sunshine, open payments | payment transparency
coi | conflict interest
spam, firewall | email blocked
rural, miles | rural travel
transportation, ride, uber | transportation travel
understaffed, shortstaffed, short staffed, swamped, slammed, overwhelmed | overwhelmed staff workload
backlog | backlog
limbo, stuck | stuck status pending
status | status update
asap | urgent
daily, every day | daily
jan, january, new year | january new year
q1 | first quarter january
midyear, mid year | middle year
equivocal, indeterminate, inconclusive | borderline result
threshold, cutoff | cut off
ihc, fish, pcr | assay test
starter pack, starter kit | starter pack titration
sicker, cherry picked | trial patients qualified exclusion
marginal, incremental, underwhelming, unimpressive, unimpressed | modest benefit
ole | open label extension study long term durability
orr | response rate endpoint
surrogate | surrogate endpoint
stable, controlled | stable
status quo | stable change
escalate, escalation | double dose
candidate, candidates | ideal patient
superior, superiority, beats, beat | better head to head
burned, burnt | bad experience
died, death, fatal | serious adverse event
fda, ema, regulator | regulator
dhcp | regulator notice safety letter
1l, 2l, 3l, first line, second line, third line, later line, refractory | sequence prior therapy line
midlevel, midlevels, mid level, apps | nurse practitioner app
class effect | class same older drug
underrecognized, misdiagnosis, missed diagnosis | under recognized undiagnosed
formulation | presentation strength
no idea, never heard, didnt know | unaware
snda, sbla, label expansion | new indication
handout, handouts, brochure, brochures, flyer, pamphlet | handout materials
underwater, margin, margins | lose money reimbursement
nonpreferred, non preferred | non preferred tier formulary
tier, tiers | tier formulary
redetermination, unwinding | medicaid renewal eligible coverage lapse
amcp | dossier
clinicals, records | chart notes documentation
turnaround, tat | turnaround weeks
expired, expiring, lapsed, lapse | expire lapse
hopd | hospital outpatient site of care
oon, out of network | out network pharmacy
ldd, limited distribution | specialty pharmacy network
job change, new job, open enrollment | new plan job change
nms, forced switch | non medical switch
facility | facility fee
sticker shock | too expensive cost abandoned
picked up, pick up | picked up fill
bin, pcn | copay card billed secondary
low income, poverty, fpl | income afford
paystub, pay stub, tax return, w2 | income documents
commute, far away, long drive, hours away | travel distance
chair time | infusion chair capacity
gc | genetic counseling
cracks | nobody owns follow up
phone tag | voicemail callbacks missed
bandwidth | staff capacity workload
turnover | turnover
new hire | new staff turnover
popup, pop up, hard stop | emr alert
tracking | shipment updates
retype, reenter, rekey, double entry, manually, by hand | retyping by hand
sendout, send out, requisition | send out test catalog
distributor, mckesson, cardinal, amerisource, cencora | wholesaler
pdf, scanned, attachment, attachments | pdf document buried chart
rtbc, rtbt, rtpb | real time benefit check emr
no show, noshow | missed appointment no show
unreachable, cant reach | unable reach calls
porch, doorstep | doorstep delivery
flip phone, wifi, computer, computers | smartphone internet online
impatient | expect fast relief
spanish, esl, non english, limited english | language interpreter
ltfu, lost to follow up | lost follow up referral
embarrassed, ashamed, shame | stigma hide
drug holiday | stop feel better
aging out, age out | pediatric adult transition
inservice, in service | training
iqvia, symphony | prescribing data tracked
mixed messages, contradictory, contradicted | conflicting answers
vacant, vacancy, open territory | rep vacancy turnover
backorder, backordered, stockout, out of stock | supply shortage
salesy, pitch, pitching | selling salespeople
q4w, q8w, q12w, monthly | once month dosing frequency
qd, bid, tid | daily dosing frequency
loyal, loyalty | habit loyal
on demand, recording, recorded | recording online event
bombarded, overload, inundated | contact volume
after hours, afterhours, evenings, evening, weekend, weekends | after hours paperwork
broken record | same complaint
point person, poc, point of contact | lead contact
sec, secs, hallway, doorway | seconds door
""".strip()


def _parse(table: str) -> dict[str, str]:
    expansions = {}
    for line in table.splitlines():
        keys, expansion = (part.strip() for part in line.split("|"))
        for key in keys.split(","):
            expansions[key.strip()] = expansion
    return expansions


EXPANSIONS = _parse(SHORTHAND)

STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be because been before being but by
    can could did do does doing done dont for from get gets got had has have he her here him his
    how i if in into is it its just me more most my no not now of off on once one only or other
    our out over own same she should so some such than that the their them then there these they
    this those through to too under until up very was we were what when where which while who
    why will with would you your says said told tell asked ask wants want still even really
    today yesterday week wk weeks month months yr year""".split()
)
