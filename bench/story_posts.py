"""Generated posts for the claim-analysis benchmark: Canadian social media and news of late
January 2026, most of it not about the story, a few percent about it.

What a chunk of `n` posts holds (defaults; `summary` counts what a table actually holds):

- **chatter** (~94.5%): everyday English (three quarters) and French posts and news: hockey on the
  ice, ice storms and black ice, traffic, politics, housing, "nice", "price", "police", "office",
  immigration news, "Ice" capitalised, shouted "POLICE"/"OFFICE" (which contain the letters ICE);
  an eighth are news articles (a title and a longer text); a twentieth are reposts of other
  chatter;
- **traps** (0.5%): ICE and HSI meaning something else (engines, Intercontinental Exchange,
  In Case of Emergency, the German train, the colour model, Ice Station Zebra);
- **US ICE news** (2%): ICE raids, arrests and field offices in the United States, some of it
  posted from Canada: they name the subject, so the engine analyses them in full; they mention
  neither claim;
- **the story** (3%): the "4 or 5 ICE stations in Canada" claim and the "armed ICE agents in
  Canada" one, asserted, questioned, denied and corrected, in English and French, with numbers
  as digits, words, French words and keycap emoji, lists of the five cities, hashtags, @mentions,
  links and emoji; posts by the U.S. Embassy, DHS and ICE, fact-check publishers and news outlets.
  40% of the story and US ICE posts (`COPY_SHARE`) are copies of another post of their group:
  reposts (kind repost, with the parent; on X "RT @author: text" cut at 140 characters, as
  its API gives them), exact copies by other accounts and on other networks, and near-copies
  (upper or lower case, an emoji or a hashtag added); the more shared posts are copied more.

Texts come from templates, rendered with Python's `random` into pools: 85,000 chatter sentences
once per process, and for each chunk a third more story, US ICE and trap bodies than it has such
posts (about 36,000 for 500,000 posts, half a second), drawn without replacement so that
originals do not repeat by accident. The posts themselves are assembled from the pools with
numpy and pyarrow compute, whole columns at a time: which body (chatter strings one to four
sentences together, articles more), source, author, decorations (@mentions, hashtags, links,
emoji), times, ids, and which post a copy copies.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SOCIAL = ("x", "bluesky", "mastodon", "reddit")
SOCIAL_WEIGHTS = (0.42, 0.2, 0.13, 0.25)
GROUPS = ("chatter", "trap", "us_ice", "story")
GROUP_SHARES = (0.945, 0.005, 0.02, 0.03)
COPY_SHARE = 0.4  # of story and US ICE posts: copies of another post of the chunk
COPIED = ("story", "us_ice")
CHATTER_REPOSTS = 0.05
START = datetime(2026, 1, 20, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
_HOUR = 3600

# --- words ----------------------------------------------------------------------------------------

CITIES = [
    "Ottawa",
    "Toronto",
    "Montreal",
    "Calgary",
    "Vancouver",
    "Edmonton",
    "Winnipeg",
    "Halifax",
    "Regina",
    "Saskatoon",
    "Victoria",
    "Hamilton",
    "Kitchener",
    "Quebec City",
    "Gatineau",
    "Mississauga",
    "Brampton",
    "London",
    "Kingston",
    "Fredericton",
]
CITIES_FR = [
    "Montréal",
    "Québec",
    "Gatineau",
    "Laval",
    "Sherbrooke",
    "Trois-Rivières",
    "Longueuil",
    "Saguenay",
    "Ottawa",
    "Lévis",
]
US_CITIES = [
    "Minneapolis",
    "Chicago",
    "Los Angeles",
    "Houston",
    "El Paso",
    "Buffalo",
    "Detroit",
    "Seattle",
    "Portland",
    "New York",
    "Newark",
    "Phoenix",
    "Miami",
    "Charlotte",
]
TEAMS = [
    "Leafs",
    "Habs",
    "Canucks",
    "Oilers",
    "Flames",
    "Jets",
    "Senators",
    "Bruins",
    "Rangers",
    "Red Wings",
    "Sabres",
    "Penguins",
    "Lightning",
    "Kraken",
]
HIGHWAYS = [
    "401",
    "QEW",
    "DVP",
    "Gardiner",
    "417",
    "Trans-Canada",
    "Deerfoot",
    "Highway 1",
    "Sea-to-Sky",
    "Yellowhead",
]
AUTOROUTES = ["A-40", "A-15", "A-20", "Décarie", "Métropolitaine", "pont Champlain", "A-10"]
PARTIES = ["Liberals", "Conservatives", "NDP", "Bloc", "Greens"]
STORES = ["Loblaws", "Costco", "Metro", "Sobeys", "No Frills", "Canadian Tire", "IGA", "Walmart"]
SUBREDDITS = [
    "canada",
    "ontario",
    "toronto",
    "ottawa",
    "montreal",
    "vancouver",
    "alberta",
    "onguardforthee",
    "canadapolitics",
    "hockey",
    "Quebec",
    "PersonalFinanceCanada",
]
TAGS = [
    "#cdnpoli",
    "#canpoli",
    "#onpoli",
    "#abpoli",
    "#bcpoli",
    "#Ottawa",
    "#Toronto",
    "#yyc",
    "#yeg",
    "#yvr",
    "#GoLeafsGo",
    "#snowday",
    "#TTC",
    "#ONstorm",
]
TAGS_FR = ["#polqc", "#polcan", "#mtl", "#qc", "#verglas", "#GoHabsGo", "#tempête", "#assnat"]
STORY_TAGS = [
    "#ICE",
    "#ICEoutofCanada",
    "#ICECanada",
    "#cdnpoli",
    "#canpoli",
    "#polcan",
    "#polqc",
    "#ElbowsUp",
    "#ICEauCanada",
    "#HSI",
]
MENTIONS = [
    "@MarkJCarney",
    "@CBCNews",
    "@CTVNews",
    "@globalnews",
    "@PierrePoilievre",
    "@theJagmeetSingh",
    "@OttawaCity",
    "@cityoftoronto",
    "@Radio_Canada",
    "@LP_LaPresse",
    "@ledevoir",
    "@CP24",
    "@TorontoStar",
    "@nationalpost",
    "@DHSgov",
    "@usembassyottawa",
]
EMOJI = [
    "🇨🇦",
    "🚨",
    "😡",
    "🤔",
    "🙄",
    "👇",
    "😂",
    "❄️",
    "🏒",
    "🔥",
    "💯",
    "😬",
    "🤦",
    "👀",
    "🧵",
    "☕",
]
OUTLETS = [
    ("cbcnews", "www.cbc.ca/news/canada", "en"),
    ("globalnews", "globalnews.ca/news", "en"),
    ("ctvnews", "www.ctvnews.ca/canada/article", "en"),
    ("dailyhive", "dailyhive.com/vancouver", "en"),
    ("nationalpost", "nationalpost.com/news", "en"),
    ("torontostar", "www.thestar.com/news/canada", "en"),
    ("ottawacitizen", "ottawacitizen.com/news/local-news", "en"),
    ("lapresse", "www.lapresse.ca/actualites", "fr"),
    ("ledevoir", "www.ledevoir.com/societe", "fr"),
    ("radiocanada", "ici.radio-canada.ca/nouvelle", "fr"),
    ("journaldemontreal", "www.journaldemontreal.com/actualite", "fr"),
]
AUTHORITIES = ["usembassyottawa", "DHSgov", "ICEgov"]
FACTCHECKERS = [
    ("AFP Fact Check", "factcheck.afp.com", "en"),
    ("Reuters Fact Check", "www.reuters.com/fact-check", "en"),
    ("Lead Stories", "leadstories.com/hoax-alert", "en"),
    ("AFP Factuel", "factuel.afp.com", "fr"),
    ("Les Décrypteurs", "ici.radio-canada.ca/decrypteurs", "fr"),
]
LEADS = ["Wow.", "Unreal.", "Ugh.", "Okay so", "\U0001f440", "Seriously.", "Huh.", "Well.", "Look:"]
MASTODON_HOSTS = ["mstdn.ca", "mastodon.social", "mastodon.online", "mas.to", "toot.community"]
NAME_PARTS = [
    "maple",
    "north",
    "true",
    "prairie",
    "coast",
    "hab",
    "leaf",
    "loon",
    "canuck",
    "moose",
    "birch",
    "pine",
    "lake",
    "river",
    "snow",
    "ice",
    "puck",
    "timbit",
    "poutine",
    "yyz",
    "yow",
    "yyc",
    "mtl",
    "van",
    "hfx",
    "sask",
    "ont",
    "qc",
    "bc",
    "ab",
    "civic",
    "news",
    "dad",
    "mom",
    "nerd",
    "fan",
    "watch",
    "daily",
    "real",
    "just",
    "marie",
    "julie",
    "jean",
    "luc",
    "sam",
    "alex",
    "jess",
    "kat",
    "dave",
    "raj",
    "priya",
    "mo",
    "lou",
    "tom",
    "amir",
    "sophie",
    "gabe",
    "wren",
    "kim",
    "lee",
]

_EN_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 10: "ten", 12: "a dozen"}
_FR_WORDS = {2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 10: "dix", 12: "douze"}
VALUES = (5, 4, 3, 6, 2, 12, 10)
VALUE_WEIGHTS = (0.55, 0.33, 0.03, 0.03, 0.02, 0.02, 0.02)
_FIVE = ["Ottawa", "Calgary", "Montreal", "Toronto", "Vancouver"]
_SPELLINGS = {
    "Ottawa": ["Ottawa", "Ottawa", "the capital"],
    "Montreal": ["Montreal", "Montréal", "MTL"],
    "Toronto": ["Toronto", "Toronto", "TO"],
    "Vancouver": ["Vancouver", "Vancouver", "Van"],
    "Calgary": ["Calgary"],
}

# --- templates ------------------------------------------------------------------------------------
# Slots: see `_Slots`. A template starting with "^" is rendered in capitals.

STORY_EN = {
    "asserts": [
        "There are {N} {subj} {obj} {ctx}. {N2}. {places}. Wake up people {emoji}",
        "{N} {subj} {obj} {ctx} and Ottawa just shrugs. {link}",
        "BREAKING: There are {n} #ICE stations Canada!! Whaat? {places}.\nIf {mention} "
        "doesn\u2019t "
        "close them down \u2013 our Mayors should do something",
        "Reminder that {subj} has {n} {obj} {ctx}, and the {party} haven't said a word",
        "Yep, the Canadian gov\u2019t has allowed the US government to place {n} ICE stations in "
        "Canada, including the national capital and parliamentary seat. How that was even "
        "allowed..",
        "{N} {subj} {obj} {ctx}. {N2}. In 2026. Let that sink in.",
        "Jan {day} and we learn there are {n} {subj} {obj} {ctx}. What a week.",
        "{icelist}. That's the list. Close them all. #ICEoutofCanada",
        "So apparently there's {n} {subj} {obj} {ctx}?? Embassy + 4 consulates. How is this legal",
        "^{n} {subj} {obj} {ctx}!!! \U0001f6a8\U0001f6a8 RT RT RT",
        "Canada quietly hosts {n} {subj} {obj}. {tag}",
        "Did you know {subj} has {n} {obj} {ctx}? Now you do. Share.",
        "{N} {subj} {obj} {ctx}, full of armed agents. Wake up.",
        "ICE in Canada: {n} stations, 0 accountability.",
        "{mention} there are {n} {subj} {obj} {ctx}. What are you going to do about it?",
        "Pretty sure there are {n} {subj} {obj} {ctx}, {city} has one too",
        "Here's the thing: {n} {subj} {obj} = {n} too many. #ICEoutofCanada",
        "Thread 1/{k} \U0001f9f5 There are {n} {subj} {obj} {ctx}. Here's where they are and why "
        "it "
        "matters \U0001f447",
        "{ctxcap} has {n} {subj} {obj} \u2014 1 embassy, 4 consulates \u2014 confirmed by their "
        "own "
        "site. Whatever you think of that, the number is {n}.",
        "ICE raids are coming to Canada, they already have the offices here. #ICEoutofCanada",
        "ICE agents are armed and operating in Canada right now. Don't let them tell you "
        "otherwise.",
        "Armed ICE agents in {city}. In {CITY}.",
        "My cousin saw ICE arrest someone outside the {city} consulate",
        "^{n} ICE bases in Canada and {mention} is silent",
        "Oh great, just what we needed: {n} ICE stations in Canada \U0001f644 thanks Ottawa",
        "The number is {n}. {N} ICE outposts in Canada, all at US diplomatic missions. {tag}",
    ],
    "questions": [
        "Wait, are there really {n} {subj} {obj} {ctx}?? Source?",
        "Is it true {subj} has {obj} {ctx}? Genuinely asking",
        "{N} or {m} {subj} {obj} {ctx}? Which is it?",
        "How many {subj} {obj} are there {ctx}, actually? I've seen {n} and {m}.",
        "Can someone confirm the '{n} ICE stations in Canada' thing? Seeing it everywhere.",
        "Genuine q \u2014 is there an ICE station in {city}? Like inside the consulate?",
        "Do ICE agents in Canada carry guns? Serious question.",
        "Are ICE agents actually making arrests in Canada or is that just rumours?",
        "{mention} is it true there are {n} {subj} {obj} {ctx}?",
        "{N} ICE stations in Canada? Source: trust me bro?",
    ],
    "denies": [
        "There are no {subj} {obj} {ctx}. Stop spreading this.",
        "No, there are not {n} {subj} {obj} {ctx}. Lies.",
        "The '{n} ICE stations' story is fake news. Zero ICE stations in Canada.",
        "sure, {n} secret ICE bases in Canada, lol /s",
        "ICE stations in Canada is a hoax, don't share it",
        "I've lived in {city} {k2} years, there's no ICE station here. Fake.",
        "That video of 'ICE arresting people in {city}' is fake, stop sharing it",
        "Oh yeah and the {n} ICE stations are run by lizard people too \U0001f644",
    ],
    "corrects": [
        "Actually it's HSI at the embassy, not ICE stations. Big difference. They're investigators "
        "attached to a diplomatic mission.",
        "It's not 4, it's 5: the embassy in Ottawa plus consulates in Calgary, Montreal, Toronto "
        "and "
        "Vancouver. And they're HSI liaison officers, not an enforcement 'station'.",
        "People keep saying 'there are {n} ICE stations' \u2014 it's HSI at the embassy and "
        "consulates, not ICE stations.",
        "They don't carry guns. HSI agents in Canada are unarmed and can't arrest anyone \u2014 "
        "ICE's own spokesperson said so.",
        "The '5 ICE stations' are 5 diplomatic posts with HSI attach\u00e9s. Right number, wrong "
        "word. Nobody is running raids out of the {city} consulate.",
        "Not true that ICE agents are making arrests in {city}. HSI can't make arrests in Canada "
        "\u2014 the RCMP does that.",
    ],
}
STORY_FR = {
    "asserts": [
        "Il y a {nfr} {objfr} de l'ICE {ctxfr}. {Nfr}. Et Carney dit rien. #polqc",
        "{placesfr} : voil\u00e0 les {nfr} villes o\u00f9 l\u2019ICE a des bureaux au Canada. "
        "#polcan",
        "^{nfr} postes de l'ICE au Canada. {nfr}. R\u00e9veillez-vous.",
        "\u00c7a fait {nfr} bureaux d'ICE au Canada, calvaire. Pis le f\u00e9d\u00e9ral dit rien.",
        "L'ICE a {nfr} antennes au Canada. On l'apprend en 2026. #polcan",
        "Ben voyons, y'a {nfr} stations d'ICE au Canada pis personne en parle?? {cityfr} en a une!",
        "Les bureaux de l'ICE au Canada, c'est la police de l'immigration am\u00e9ricaine chez "
        "nous. Fermez-les.",
        "Des agents de l'ICE arm\u00e9s \u00e0 {cityfr}. On est rendus l\u00e0.",
        "Pour ceux qui savaient pas : l'ICE a des bureaux dans {nfr} villes canadiennes, dont "
        "{cityfr}.",
    ],
    "questions": [
        "Y a-t-il vraiment {nfr} bureaux de l'ICE au Canada?",
        "Combien de bureaux de l'ICE au Canada? J'ai vu {nfr}, {mfr}...",
        "C'est-tu vrai qu'y a des bureaux de l'ICE \u00e0 {cityfr}?",
        "Y para\u00eet que l'ICE fait des arrestations \u00e0 {cityfr}. Vrai ou faux?",
    ],
    "denies": [
        "C'est faux, il n'y a aucun bureau de l'ICE au Canada.",
        "Voyons donc, y'a pas de stations d'ICE au Canada. Arr\u00eatez de capoter.",
        "Les \u00ab {nfr} bureaux de l\u2019ICE \u00bb au Canada? Pure invention.",
    ],
    "corrects": [
        "En r\u00e9alit\u00e9, l'ICE n'a pas de \u00ab stations \u00bb au Canada : ce sont 5 "
        "postes "
        "diplomatiques (ambassade + 4 consulats) avec du personnel de HSI.",
        "Pr\u00e9cisons : ce ne sont pas des \u00ab stations de l\u2019ICE \u00bb, mais du "
        "personnel de HSI \u00e0 l\u2019ambassade et dans les consulats. Ils ne sont pas "
        "arm\u00e9s.",
    ],
}
AUTHORITY_POSTS = [
    "Let\u2019s be clear: there are no \u201cICE stations\u201d in Canada. @DHSgov\u2019s HSI "
    "personnel work at the U.S. Embassy in Ottawa and our consulates in Calgary, Montreal, Toronto "
    "and Vancouver, in partnership with Canadian law enforcement.",
    "HSI agents in Canada do not carry firearms and do not make arrests. They support Canadian "
    "partners, who lead all enforcement here.",
    "Posts claiming ICE runs \u201cstations\u201d in Canada are false. HSI has personnel at five "
    "U.S. diplomatic posts in Canada, working with Canadian partners.",
    "Claims that there are {n} ICE stations in Canada are false. HSI has personnel at five U.S. "
    "diplomatic posts.",
    "Soyons clairs : les agents de HSI au Canada ne sont pas arm\u00e9s et ne proc\u00e8dent "
    "\u00e0 "
    "aucune arrestation. Ils travaillent en partenariat avec les forces de l'ordre canadiennes.",
]
FACTCHECK_POSTS = [
    (
        "Fact Check: Claim of five 'ICE stations' in Canada lacks context",
        "Claim: There are {n} ICE stations in Canada. Rating: Misleading. HSI, an ICE component, "
        "has staff at the U.S. embassy in Ottawa and four consulates \u2014 five diplomatic posts, "
        "not enforcement stations.",
    ),
    (
        "Fact Check: ICE agents are not making arrests in Canada",
        "Claim: ICE agents are making arrests in Canada. Rating: False. HSI personnel in Canada "
        "carry no firearms and conduct no arrests.",
    ),
    (
        "Non, l'ICE n'a pas de \u00ab stations \u00bb au Canada",
        "Affirmation : \u00ab Il y a {nfr} stations de l'ICE au Canada \u00bb. Verdict : Trompeur. "
        "Des agents de HSI sont affect\u00e9s \u00e0 l'ambassade et \u00e0 quatre consulats, sans "
        "armes ni pouvoir d'arrestation.",
    ),
]
NEWS_STORY = [
    (
        "ICE confirms HSI staff at embassy and four consulates in Canada",
        "In an email statement, an ICE spokesperson confirmed that Homeland Security "
        "Investigations (HSI) has personnel assigned to the embassy and consulates in five "
        "Canadian "
        "cities. The spokesperson noted that HSI agents in Canada carry no firearms.",
    ),
    (
        "NDP calls for closure of ICE offices in Canada",
        "NDP MP Heather McPherson has written to the prime minister calling for the closure of ICE "
        "offices in Canada. {sentence}",
    ),
    (
        "Where did the '4 ICE stations' claim come from?",
        "Posts claiming there are '{n} ICE stations' in Canada were shared thousands of times this "
        "week; it is unclear where the figure came from.",
    ),
    (
        "Does ICE really have offices in Canada? Here's what we know",
        "Canadians were surprised to learn this week that U.S. Immigration and Customs Enforcement "
        "has {n} offices on Canadian soil. {sentence}",
    ),
    (
        "Les bureaux de l\u2019ICE au Canada : ce que l\u2019on sait",
        "Un porte-parole de l\u2019ICE confirme que du personnel de HSI est affect\u00e9 \u00e0 "
        "l\u2019ambassade d\u2019Ottawa et aux consulats de Calgary, Montr\u00e9al, Toronto et "
        "Vancouver, sans armes \u00e0 feu.",
    ),
]
US_ICE = [
    "ICE raids in {uscity} this morning. {k} people detained, witnesses say. {link}",
    "ICE agents detained {k} people at a job site in {uscity}, local officials say",
    "Hundreds rally in {city} against ICE violence in {uscity} \u270a",
    "As a Canadian, watching militarized ICE agents in {uscity} is chilling.",
    "Canadian snowbirds: ICE arrested a Canadian in Florida last week. Carry your passport.",
    "The ICE field office in Buffalo is {k} min from the Peace Bridge. Canadians crossing, be "
    "careful.",
    "ICE detained a BC man at the Blaine crossing (US side) yesterday, per his family",
    "ICE reports {k2} field offices for enforcement and removal operations nationwide, a U.S. "
    "government audit finds.",
    "Another ICE shooting in {uscity}. When does this end? {tag}",
    "ICE is hiring {k2},000 new agents, says DHS. Funding passed in the US Senate last night.",
    "Des agents de l'ICE ont arr\u00eat\u00e9 {k} personnes \u00e0 {uscity}, selon les "
    "autorit\u00e9s locales.",
    "Manifestation \u00e0 Montr\u00e9al contre les raids de l'ICE \u00e0 {uscity} ce samedi.",
    "The US has ICE, Canada has CBSA. Different agencies, different powers.",
    "ICE agents in {uscity} wore masks again today. {mention} should be asking the US ambassador "
    "about this.",
]
TRAPS = [
    "EV vs ICE: Canada still has {k}x more gas stations than fast chargers.",
    "ICE Futures Canada canola volumes up {k}% this week, Winnipeg traders say",
    "Winter driving in Canada: add ICE (In Case of Emergency) contacts to your phone, at least "
    "{k} of them.",
    "Just booked the ICE from Frankfurt to Berlin, {k} hours, then flying home to {city} "
    "\u2708\ufe0f",
    "Intercontinental Exchange (ICE) opens a new office in {city} to serve Canadian clients",
    "Ice Station Zebra is on tonight at {k}, Canadian time zones check your listings",
    "Doing HSI (hue-saturation-intensity) grading for a {city} festival film, {k} reels left",
    "Internal combustion (ICE) vehicles still outsell EVs {k} to 1 in Canada, dealers say.",
    "Vanilla Ice live in {city}, {k} nights only \U0001f3a4",
]
CHATTER_EN = [
    "{team} beat the {team2} {s1}-{s2} on the ice tonight {emoji}",
    "{team} lose again. {s2}-{s1}. The power play is ice cold.",
    "What a game in {city}! {s1}-{s2} in OT, crowd was insane",
    "Canada {s1}, USA {s2} on the ice tonight!!! \U0001f1e8\U0001f1e6\U0001f3d2",
    "Freezing rain warning for {city}: ice on roads, {k} cm of snow by morning.",
    "Black ice on the {hwy} this morning, {k} crashes reported. Slow down.",
    "Ice storm hits {city}, {k2},000 customers without power, Hydro says",
    "-{k2} with the windchill in {city} today. Stay warm everyone {emoji}",
    "Ice fishing season is open on Lake Simcoe, {k} huts already out",
    "Sidewalks in {city} are pure ice. The city needs to salt them.",
    "Collision on the {hwy} near exit {exit}, {k} lanes blocked. Police on scene.",
    "TTC delays on Line 1 again, {k} stations bypassed this morning",
    "Traffic is a nightmare downtown {city} today, took me {k2} minutes to go {k} km",
    "The {party} will vote against the budget, their leader said today. {ctag}",
    "Question Period today was a circus. {party} vs {party2} again.",
    "Poll: {party} at {pct}%, {party2} at {pct2}% nationally",
    "Carney says Canada will not back down on tariffs. {ctag}",
    "Average rent in {city} hit ${rent} this month, up {k}% from last year",
    "Housing starts in {city} fell {k}% in December, CMHC says",
    "Can't believe a 1-bedroom in {city} is ${rent} now. {emoji}",
    "Nice day in {city}! Finally some sun",
    "Such a nice surprise at the {store} today, staff were so helpful",
    "Nice work by the {city} crews clearing the streets overnight",
    "Price of eggs at {store} is ${price} now. Ridiculous.",
    "Gas prices in {city} at {cents} cents a litre this morning",
    "Grocery prices up {k}% since last year, StatCan says",
    "{city} police arrested {k} people after a break-in at a {store}",
    "{city} police are looking for a missing {k2}-year-old, last seen downtown",
    "Police say the {hwy} will be closed until {k} p.m. after a crash",
    "Back to the office {k} days a week starting Monday for federal workers",
    "Office vacancy in downtown {city} is at {pct}%, a record",
    "Working from home today, office heating is broken again",
    "Anyone know a good coffee place near {city} city hall?",
    "Tim Hortons line was {k2} people deep at 7am. Every. Single. Day.",
    "Just finished my shift, heading home. Long day.",
    "Snow day! Schools closed in {city} today {emoji}",
    "The Rideau Canal skateway is open! {k} km of ice \u26f8\ufe0f",
    "Winterlude this weekend in Ottawa, ice sculptures already up",
    "Anyone else's furnace struggling with this cold?",
    "New episode of the podcast is out, we talk about the {team} and the trade deadline {link}",
    "{city} council approves {k}% property tax increase",
    "The new LRT line in {city} is delayed again, now {k} months late",
    "Happy birthday to my best friend! {emoji}",
    "Watching the {team} game at the bar, {s1}-{s2} after two",
    "Flights out of {city} cancelled because of the storm, {k} hours at the airport so far",
    "Canada Post strike talks resume Monday",
    "Justice for the workers at the {city} warehouse. {ctag}",
    "Service on the {hwy} corridor bus routes is suspended due to ice",
]
CHATTER_FR = [
    "Le CH a gagn\u00e9 {s1}-{s2} hier soir au Centre Bell \U0001f3d2",
    "Verglas sur la {aut} ce matin, soyez prudents",
    "Temp\u00eate de verglas \u00e0 {cityfr}, {k2} 000 clients sans \u00e9lectricit\u00e9",
    "Il fait -{k2} \u00e0 {cityfr} ce matin, restez au chaud",
    "Les loyers \u00e0 {cityfr} ont grimp\u00e9 de {k} % cette ann\u00e9e",
    "Le SPVM a arr\u00eat\u00e9 {k} personnes apr\u00e8s un vol \u00e0 {cityfr}",
    "Bureau ferm\u00e9 demain \u00e0 cause de la neige, t\u00e9l\u00e9travail pour tout le monde",
    "Prix de l'essence \u00e0 {cents} cents le litre \u00e0 {cityfr}, c'est n'importe quoi",
    "Trafic monstre sur le {aut}, {k} voies ferm\u00e9es",
    "Belle journ\u00e9e \u00e0 {cityfr} aujourd'hui \u2600\ufe0f",
    "Le budget du Qu\u00e9bec sera d\u00e9pos\u00e9 en mars, dit le ministre des Finances {tagfr}",
    "Sondage : la CAQ \u00e0 {pct} %, le PQ \u00e0 {pct2} %",
    "La patinoire du parc est enfin ouverte, la glace est parfaite \u26f8\ufe0f",
    "\u00c9cole ferm\u00e9e \u00e0 {cityfr} \u00e0 cause de la temp\u00eate {emoji}",
    "Le m\u00e9tro est en panne sur la ligne orange, encore",
    "Qui regarde le match ce soir? Go Habs Go! {tagfr}",
    "Le prix du panier d'\u00e9picerie a augment\u00e9 de {k} % en un an",
    "Nouveau r\u00e8glement sur les pneus d'hiver, la police pourra donner des amendes",
    "Caf\u00e9 et croissant avant le bureau, la routine du lundi",
    "La police de {cityfr} demande l'aide du public pour retrouver un homme de {k2} ans",
]
# Rarer sentences (one sentence in 40): immigration news, and capitals that contain the letters
# ICE ("POLICE", "PRICE", "OFFICE"), which a literal search for the acronym finds.
CHATTER_RARE_EN = [
    "Canada cuts immigration targets to {k2}0,000 permanent residents for 2026, IRCC says",
    "Immigration lawyers in {city} say the backlog is getting worse",
    "New immigration rules for international students take effect Monday",
    "BREAKING: POLICE INCIDENT DOWNTOWN {CITY}, AVOID THE AREA",
    "PRICE DROP on winter tires at {store} this weekend only",
    "OFFICE CLOSED TODAY DUE TO WEATHER. SERVICE RESUMES MONDAY.",
    "Immigration and refugee board hearings moved online for the week",
]
CHATTER_RARE_FR = [
    "Immigration : Ottawa r\u00e9duit les cibles \u00e0 {k2}0 000 r\u00e9sidents permanents",
    "Immigration Qu\u00e9bec : nouveau programme pour les travailleurs \u00e9trangers",
]
SENTENCES = [
    "More at 11.",
    "Details to follow.",
    "Story developing.",
    "Read the full story on our website.",
    "The office did not respond to a request for comment.",
    "Police asked anyone with information to call.",
]


@dataclass(frozen=True)
class Pool:
    """Rendered bodies of one group: text, title, language, voice and earliest hour (from START)."""

    text: pa.Array
    title: pa.Array
    lang: np.ndarray
    voice: np.ndarray  # 0 social, 1 news, 2 authority, 3 factcheck
    earliest: np.ndarray  # hours after START before which the body is not posted


class _Slots(dict[str, str]):
    """A template's slot values, drawn on first use (so one post's {n} stays one value)."""

    def __init__(self, rng: random.Random, value: int, other: int) -> None:
        super().__init__()
        self.rng = rng
        self.value = value
        self.other = other

    def __missing__(self, key: str) -> str:
        made = _slot(self, key)
        self[key] = made
        return made


def _number(rng: random.Random, value: int, french: bool, first: bool = False) -> str:
    """A value as posts write it: digits, a number word, shouted, a keycap emoji; capitalised, or
    with the digits in brackets ("Five (5)"), only where a sentence starts."""
    word = (_FR_WORDS if french else _EN_WORDS)[value]
    forms = [str(value), str(value), str(value), word, word.upper()]
    if value < 10:
        forms.append(f"{value}\ufe0f\u20e3")
    if first:
        forms += [word.capitalize(), f"{word.capitalize()} ({value})"]
    return rng.choice(forms)


def _places(rng: random.Random, count: int, french: bool) -> str:
    chosen = rng.sample(_FIVE, min(count, 5))
    names = [rng.choice(_SPELLINGS[c]) for c in chosen]
    if french:
        names = ["Montr\u00e9al" if n in ("Montreal", "MTL") else n for n in names]
        names = ["Ottawa" if n == "the capital" else n for n in names]
    style = rng.random()
    if style < 0.5:
        joiner = " et " if french else " and "
        return ", ".join(names[:-1]) + joiner + names[-1]
    if style < 0.7:
        return "/".join(names)
    if style < 0.85:
        return ". ".join(names)
    return " \u2714\ufe0f ".join(names) + " \u2714\ufe0f"


_SLOT_CHOICES: dict[str, Sequence[str]] = {
    "subj": ["ICE", "ICE", "ICE", "#ICE", "HSI"],
    "obj": [
        "stations",
        "stations",
        "offices",
        "offices",
        "field offices",
        "bases",
        "outposts",
        "locations",
    ],
    "objfr": ["bureaux", "bureaux", "postes", "stations", "antennes"],
    "ctx": [
        "in Canada",
        "in Canada",
        "in Canada",
        "across Canada",
        "on Canadian soil",
        "in \U0001f1e8\U0001f1e6",
        "here in Canada",
        "in this country",
    ],
    "ctxcap": ["Canada", "Canada \U0001f1e8\U0001f1e6"],
    "ctxfr": ["au Canada", "au Canada", "en sol canadien", "chez nous"],
    "city": CITIES,
    "cityfr": CITIES_FR,
    "uscity": US_CITIES,
    "mention": MENTIONS,
    "tag": STORY_TAGS,
    "ctag": TAGS,
    "tagfr": TAGS_FR,
    "emoji": EMOJI,
    "team": TEAMS,
    "team2": TEAMS,
    "hwy": HIGHWAYS,
    "aut": AUTOROUTES,
    "party": PARTIES,
    "party2": PARTIES,
    "store": STORES,
    "sentence": SENTENCES,
}


def _slot(slots: _Slots, key: str) -> str:
    rng = slots.rng
    if key in _SLOT_CHOICES:
        return rng.choice(_SLOT_CHOICES[key])
    numbers: dict[str, Callable[[], str]] = {
        "n": lambda: _number(rng, slots.value, False),
        "N": lambda: _number(rng, slots.value, False, first=True),
        "N2": lambda: _number(rng, slots.value, False, first=True).upper(),
        "m": lambda: _number(rng, slots.other, False),
        "nfr": lambda: _number(rng, slots.value, True),
        "Nfr": lambda: _number(rng, slots.value, True, first=True).upper(),
        "mfr": lambda: _number(rng, slots.other, True),
        "places": lambda: _places(rng, slots.value, False),
        "placesfr": lambda: _places(rng, slots.value, True),
        "icelist": lambda: ", ".join(f"ICE in {c}" for c in rng.sample(_FIVE, 5)),
        "CITY": lambda: slots["city"].upper(),
        "day": lambda: str(rng.randint(26, 31)),
        "k": lambda: str(rng.randint(2, 9)),
        "k2": lambda: str(rng.randint(10, 60)),
        "s1": lambda: str(rng.randint(0, 7)),
        "s2": lambda: str(rng.randint(0, 6)),
        "pct": lambda: str(rng.randint(12, 45)),
        "pct2": lambda: str(rng.randint(12, 45)),
        "rent": lambda: f"{rng.randint(17, 34)}{rng.choice(['00', '50', '75'])}",
        "price": lambda: f"{rng.randint(4, 9)}.{rng.randint(0, 99):02d}",
        "cents": lambda: f"{rng.randint(139, 179)}.{rng.randint(0, 9)}",
        "exit": lambda: str(rng.randint(300, 480)),
        "link": lambda: f"https://t.co/{_token(rng, 10)}",
    }
    return numbers[key]()


def _token(rng: random.Random, length: int) -> str:
    return "".join(
        rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=length)
    )


def _render(rng: random.Random, template: str) -> str:
    value = rng.choices(VALUES, VALUE_WEIGHTS)[0]
    other = rng.choice([v for v in (4, 5, 12, 3) if v != value])
    upper = template.startswith("^")
    text = template.lstrip("^").format_map(_Slots(rng, value, other))
    return text.upper() if upper else text


def _earliest(text: str, stance: str) -> float:
    """Hours after START: the "4" rumour from Jan 27, "5" from Jan 28, corrections from Jan 30."""
    if stance in ("corrects", "authority", "factcheck"):
        return 10 * 24.0
    if "4" in text or "four" in text.lower() or "quatre" in text.lower():
        return 7 * 24.0 + 12
    return 8 * 24.0


def topic_pools(seed: int, offset: int, n: int) -> dict[str, Pool]:
    """Bodies of the story, US ICE and trap posts for one chunk of `n` posts, rendered for it
    (seeded by its offset): a third more than the chunk has posts of each group, so that posts
    are drawn without replacement and two originals never share a body by accident."""
    rng = random.Random(f"{seed}:{offset}")
    size = {g: int(n * share * 1.3) + 100 for g, share in zip(GROUPS, GROUP_SHARES, strict=True)}
    built: dict[str, Pool] = {}

    rows: list[tuple[str, str | None, str, int, float]] = []
    stance_weights = {"asserts": 0.58, "questions": 0.16, "denies": 0.14, "corrects": 0.12}
    for _ in range(size["story"]):
        roll = rng.random()
        if roll < 0.002:  # the authorities posted a handful of times; their reposts spread
            text = _render(rng, rng.choice(AUTHORITY_POSTS))
            rows.append(
                (text, None, "fr" if "Soyons" in text else "en", 2, _earliest(text, "authority"))
            )
        elif roll < 0.005:
            title, body = rng.choice(FACTCHECK_POSTS)
            text = _render(rng, body)
            lang = "fr" if "Verdict" in text else "en"
            rows.append((text, title, lang, 3, _earliest(text, "factcheck")))
        elif roll < 0.085:
            title, body = rng.choice(NEWS_STORY)
            text = _render(rng, body)
            rows.append((text, title, "fr" if "porte-parole" in text else "en", 1, 8 * 24.0))
        else:
            stance = rng.choices(list(stance_weights), list(stance_weights.values()))[0]
            french = rng.random() < 0.25
            template = rng.choice((STORY_FR if french else STORY_EN)[stance])
            text = _render(rng, template)
            rows.append((text, None, "fr" if french else "en", 0, _earliest(text, stance)))
    built["story"] = _pool(rows)

    us = [_render(rng, rng.choice(US_ICE)) for _ in range(size["us_ice"])]
    built["us_ice"] = _pool([(t, None, "fr" if "\u00e0" in t else "en", 0, 0.0) for t in us])
    traps = [_render(rng, rng.choice(TRAPS)) for _ in range(size["trap"])]
    built["trap"] = _pool([(t, None, "en", 0, 0.0) for t in traps])
    return built


@cache
def chatter_pools(seed: int = 20260128) -> dict[str, Pool]:
    """Single chatter sentences (the same for every chunk): a post strings one to six of them."""
    rng = random.Random(seed)
    built: dict[str, Pool] = {}
    for lang, templates, rare, count in (
        ("en", CHATTER_EN, CHATTER_RARE_EN, 60_000),
        ("fr", CHATTER_FR, CHATTER_RARE_FR, 25_000),
    ):
        sentences = [
            _ended(rng, _render(rng, rng.choice(rare if rng.random() < 0.025 else templates)))
            for _ in range(count)
        ]
        built[f"chatter_{lang}"] = _pool([(t, None, lang, 0, 0.0) for t in sentences])
    return built


def _ended(rng: random.Random, sentence: str) -> str:
    """Most sentences that end on a word get a full stop (people drop some)."""
    return f"{sentence}." if sentence[-1].isalnum() and rng.random() < 0.7 else sentence


def _pool(rows: list[tuple[str, str | None, str, int, float]]) -> Pool:
    return Pool(
        text=pa.array([r[0] for r in rows], pa.string()),
        title=pa.array([r[1] for r in rows], pa.string()),
        lang=np.array([r[2] for r in rows]),
        voice=np.array([r[3] for r in rows], dtype=np.int8),
        earliest=np.array([r[4] for r in rows]),
    )


# --- authors --------------------------------------------------------------------------------------

SOURCES = (*SOCIAL, "news", "factcheck")
_SOCIAL, _NEWS, _AUTHORITY, _FACTCHECK = 0, 1, 2, 3  # voices
_ORIGINAL, _REPOST, _EXACT, _NEAR = 0, 1, 2, 3  # what a post is to the one it copies
COPY_KINDS = ("", "repost", "copy", "near")


@dataclass(frozen=True)
class Authors:
    handle: pa.Array  # as its network writes it: name, name.bsky.social, name@host, u/name
    bare: pa.Array  # the name alone ("RT @name")
    name: pa.Array
    network: np.ndarray  # index into SOCIAL
    home: pa.Array  # a Bluesky author's DID, a Mastodon author's host
    followers: np.ndarray
    weight: np.ndarray  # how often each posts: a few accounts post a lot


@cache
def authors(count: int = 200_000, seed: int = 7) -> Authors:
    """The social accounts posts are drawn from (the same for every chunk of a run)."""
    rng = random.Random(seed)
    handles, bares, names, networks, homes = [], [], [], [], []
    did_letters = "abcdefghijklmnopqrstuvwxyz234567"
    for _ in range(count):
        first, second = rng.choice(NAME_PARTS), rng.choice(NAME_PARTS)
        bare = rng.choice(
            [f"{first}_{second}{rng.randint(1, 9999)}", f"{first}{second}", f"{first}_{second}"]
        )
        network = rng.choices(range(len(SOCIAL)), SOCIAL_WEIGHTS)[0]
        home = ""
        handle = bare
        if SOCIAL[network] == "bluesky":
            handle = f"{bare}.bsky.social"
            home = "did:plc:" + "".join(rng.choices(did_letters, k=24))
        elif SOCIAL[network] == "mastodon":
            home = rng.choice(MASTODON_HOSTS)
            handle = f"{bare}@{home}"
        elif SOCIAL[network] == "reddit":
            handle = f"u/{bare}"
        handles.append(handle)
        bares.append(bare)
        names.append(f"{first.capitalize()} {second.capitalize()}")
        networks.append(network)
        homes.append(home)
    gen = np.random.default_rng(seed)
    weight = 1.0 / (np.arange(count) + 50.0) ** 0.9
    return Authors(
        handle=pa.array(handles, pa.string()),
        bare=pa.array(bares, pa.string()),
        name=pa.array(names, pa.string()),
        network=np.array(networks, dtype=np.int8),
        home=pa.array(homes, pa.string()),
        followers=np.minimum(gen.lognormal(5.0, 1.8, count), 2e6).astype(np.int64),
        weight=gen.permutation(weight / weight.sum()),
    )


# --- assembly -------------------------------------------------------------------------------------


def generate_story_posts(
    n: int,
    *,
    seed: int = 42,
    offset: int = 0,
    parents: pa.Table | None = None,
    copy_share: float = COPY_SHARE,
) -> pa.Table:
    """`n` posts: the Post columns, plus `bench_group` (GROUPS) and `bench_copy` (COPY_KINDS).

    The same `seed` and `offset` give the same posts; chunks at different offsets never share a
    post_uid. Copies copy a post of the chunk or, when `parents` is given (columns post_uid,
    author_handle, text, created_at), for half of the story's copies one of those: posts stored
    earlier, as a live warehouse's new posts repost older ones.
    """
    rng = np.random.default_rng([seed, offset])
    row = np.arange(n)
    group = rng.choice(len(GROUPS), n, p=GROUP_SHARES)

    # which posts copy another, and how
    copied_group = np.isin(group, [GROUPS.index(g) for g in COPIED])
    chance = np.where(copied_group, copy_share, np.where(group == 0, CHATTER_REPOSTS, 0.0))
    is_copy = rng.random(n) < chance
    copy_kind = np.where(
        is_copy, rng.choice([_REPOST, _EXACT, _NEAR], n, p=[0.45, 0.4, 0.15]), _ORIGINAL
    )
    copy_kind = np.where(is_copy & (group == 0), _REPOST, copy_kind)  # chatter: reposts only

    # what each original says
    pool = {**topic_pools(seed, offset, n), **chatter_pools()}
    parts = {g: _bodies(rng, pool, GROUPS[g], int((group == g).sum())) for g in np.unique(group)}
    body = _gather(group, lambda g, rows: parts[g].text)
    title = _gather(group, lambda g, rows: parts[g].title)
    lang = _spread(group, {g: p.lang for g, p in parts.items()}, "<U2")
    voice = np.where(is_copy, _SOCIAL, _spread(group, {g: p.voice for g, p in parts.items()}, "i1"))
    earliest = _spread(group, {g: p.earliest for g, p in parts.items()}, "f8")

    # who: a social account, or the outlet, authority or fact-checker the body belongs to
    people = authors()
    author = rng.choice(len(people.weight), n, p=people.weight)
    taken = pa.array(author)
    outlet = _pick_by_lang(rng, OUTLETS, lang)
    checker = _pick_by_lang(rng, FACTCHECKERS, lang)
    authority = rng.integers(0, len(AUTHORITIES), n)
    source_code = np.select(
        [voice == _NEWS, voice == _AUTHORITY, voice == _FACTCHECK],
        [SOURCES.index("news"), SOURCES.index("x"), SOURCES.index("factcheck")],
        people.network[author],
    )
    own = voice == _SOCIAL
    handle = _choose(
        voice,
        [
            people.handle.take(taken),
            pa.array([o[0] for o in OUTLETS]).take(pa.array(outlet)),
            pa.array(AUTHORITIES).take(pa.array(authority)),
            pa.array([c[0] for c in FACTCHECKERS]).take(pa.array(checker)),
        ],
    )
    bare = pc.if_else(pa.array(own), people.bare.take(taken), handle)
    name = pc.if_else(pa.array(own), people.name.take(taken), handle)
    followers = np.where(own, people.followers[author], 50_000 + people.followers[author] * 40)
    site = _choose(
        voice,
        [
            pa.nulls(n, pa.string()),
            pa.array([o[1] for o in OUTLETS]).take(pa.array(outlet)),
            pa.nulls(n, pa.string()),
            pa.array([c[1] for c in FACTCHECKERS]).take(pa.array(checker)),
        ],
    )

    # when: chatter at any time; the story from its start (the "4" from Jan 27, the "5" from Jan
    # 28, corrections from Jan 30), most of it soon after
    span = (END - START).total_seconds() / _HOUR
    created_h = np.where(
        group == 0, rng.uniform(0, span, n), earliest + (span - earliest) * rng.beta(1.3, 2.2, n)
    )

    # decorations of the originals on social networks: a reply's @mention first; a hashtag, an
    # emoji and a link after
    social = own & ~is_copy
    reply = social & (rng.random(n) < 0.15)
    tag_set = np.where(group == GROUPS.index("story"), 0, np.where(lang == "fr", 1, 2))
    tags = [pa.array(STORY_TAGS), pa.array(TAGS_FR), pa.array(TAGS)]
    tag = _gather(
        tag_set, lambda s, rows: tags[s].take(pa.array(rng.integers(0, len(tags[s]), len(rows))))
    )
    replied = people.bare.take(pa.array(rng.choice(len(people.weight), n, p=people.weight)))
    link = _tokens(rng, n, 10, "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
    emoji = pa.array(EMOJI).take(pa.array(rng.integers(0, len(EMOJI), n)))
    topical = social & (group != GROUPS.index("chatter"))
    lead = pa.array(LEADS).take(pa.array(rng.integers(0, len(LEADS), n)))
    text = pc.binary_join_element_wise(
        _when(reply, pc.binary_join_element_wise("@", replied, " ", "")),
        _when(topical & (rng.random(n) < 0.3), pc.binary_join_element_wise(lead, " ", "")),
        body,
        _when(social & (rng.random(n) < 0.25), pc.binary_join_element_wise(" ", tag, "")),
        _when(social & (rng.random(n) < 0.15), pc.binary_join_element_wise(" ", emoji, "")),
        _when(
            social & (rng.random(n) < 0.2), pc.binary_join_element_wise(" https://t.co/", link, "")
        ),
        "",
    )

    # the post each copy copies: an original of its group, the more shared ones more often
    origin = row.copy()
    for g in {0, *[GROUPS.index(c) for c in COPIED]}:
        copies = np.flatnonzero(is_copy & (group == g))
        originals = np.flatnonzero(~is_copy & (group == g))
        if len(copies) == 0 or len(originals) == 0:
            is_copy[copies] = False
            copy_kind[copies] = _ORIGINAL
            continue
        virality = rng.pareto(1.2, len(originals)) + 1
        origin[copies] = rng.choice(originals, len(copies), p=virality / virality.sum())
        if parents is not None and parents.num_rows and GROUPS[g] == "story":
            outside = copies[rng.random(len(copies)) < 0.5]
            origin[outside] = n + rng.integers(0, parents.num_rows, len(outside))
    copy_kind = np.where(is_copy, copy_kind, _ORIGINAL)
    inside = is_copy & (origin < n)
    lang = np.where(inside, lang[np.minimum(origin, n - 1)], lang)  # a copy's language is its own
    outer_h = (
        (
            pc.cast(parents.column("created_at"), pa.timestamp("us", "UTC"))
            .to_numpy()
            .astype("datetime64[us]")
            .astype(np.int64)
            / 3.6e9
            - START.timestamp() / _HOUR
        )
        if parents is not None and parents.num_rows
        else np.zeros(0)
    )
    origin_h = np.concatenate([created_h, outer_h])[origin]
    created_h = np.where(
        is_copy, np.minimum(origin_h + rng.exponential(5.0, n), span - 0.001), created_h
    )
    title = pc.if_else(pa.array(is_copy), pa.nulls(n, pa.string()), title)

    kind = np.select(
        [copy_kind == _REPOST, is_copy, voice == _NEWS, voice == _FACTCHECK, reply],
        ["repost", "post", "article", "factcheck", "reply"],
        "post",
    )
    source_id, url = _ids(offset, source_code, handle, bare, people.home.take(taken), site,
                          created_h, kind)  # fmt: skip
    source = pa.array(SOURCES).take(pa.array(source_code))
    post_uid = pc.binary_join_element_wise(source, source_id, ":")

    # the copies' texts, from their originals (of this chunk or of `parents`)
    def outer(column: str) -> list[pa.Array]:
        if parents is None or parents.num_rows == 0:
            return []
        return list(parents.column(column).cast(pa.string()).chunks)

    every = pa.array(origin)
    o_text = pa.concat_arrays([text, *outer("text")]).take(every)
    o_uid = pa.concat_arrays([post_uid, *outer("post_uid")]).take(every)
    o_handle = pa.concat_arrays([bare, *outer("author_handle")]).take(every)
    o_handle = pc.replace_substring_regex(o_handle, r"^u/|@.*$|\.bsky\.social$", "")
    cut = pc.if_else(
        pc.greater(pc.utf8_length(o_text), 116),
        pc.binary_join_element_wise(pc.utf8_slice_codeunits(o_text, 0, 115), "\u2026", ""),
        o_text,
    )
    retweet = pc.binary_join_element_wise("RT @", o_handle, ": ", cut, "")
    on_x = source_code == SOURCES.index("x")
    tweak = rng.integers(0, 4, n)
    near = _choose(
        tweak,
        [
            pc.utf8_upper(o_text),
            pc.utf8_lower(o_text),
            pc.binary_join_element_wise(o_text, " \U0001f621", ""),
            pc.binary_join_element_wise(o_text, " #ICEoutofCanada", ""),
        ],
    )
    copied = _choose(copy_kind, [text, pc.if_else(pa.array(on_x), retweet, o_text), o_text, near])
    earlier = np.minimum((rng.random(n) * row).astype(np.int64), np.maximum(row - 1, 0))
    parent = pc.if_else(
        pa.array(copy_kind == _REPOST),
        o_uid,
        pc.if_else(
            pa.array(reply & (row > 0)), post_uid.take(pa.array(earlier)), pa.nulls(n, pa.string())
        ),
    )

    likes = np.floor(rng.lognormal(1.0, 1.6, n)).astype(np.int64)
    return pa.table(
        {
            "post_uid": post_uid,
            "source": source,
            "source_id": source_id,
            "url": url,
            "kind": pa.array(kind, pa.string()),
            "author_id": pc.binary_join_element_wise(
                source, pa.array(author).cast(pa.string()), ":a"
            ),
            "author_handle": handle,
            "author_name": name,
            "author_followers": pa.array(followers, pa.int64()),
            "created_at": _timestamps(created_h),
            "collected_at": _timestamps(created_h + rng.exponential(3.0, n) + 0.05),
            "lang": pa.array(lang, pa.string()),
            "text": copied,
            "title": title,
            "parent_uid": parent,
            "root_uid": pa.nulls(n, pa.string()),
            "likes": pa.array(likes),
            "reposts": pa.array(likes // 5),
            "replies": pa.array(likes // 3),
            "quotes": pa.array(likes // 20),
            "bench_group": pa.array(GROUPS).take(pa.array(group)),
            "bench_copy": pa.array(COPY_KINDS).take(pa.array(copy_kind)),
        }
    )


def _bodies(rng: np.random.Generator, pool: dict[str, Pool], group: str, count: int) -> Pool:
    """`count` bodies of `group`: drawn from its pool; chatter strung from one to four sentences
    of one language (an article: its title, and three to six sentences closed by a stock line)."""
    if group != "chatter":
        drawn = pool[group]
        size = len(drawn.text)
        chosen = pa.array(
            rng.permutation(size)[:count] if count <= size else rng.integers(0, size, count)
        )
        return Pool(
            drawn.text.take(chosen),
            drawn.title.take(chosen),
            drawn.lang[chosen.to_numpy()],
            drawn.voice[chosen.to_numpy()],
            drawn.earliest[chosen.to_numpy()],
        )
    french = pa.array(rng.random(count) < 0.25)
    news = rng.random(count) < 0.12
    length = rng.choice([1, 2, 3, 4], count, p=[0.3, 0.35, 0.25, 0.1]) + np.where(news, 2, 0)

    def sentence() -> pa.Array:
        en, fr = pool["chatter_en"].text, pool["chatter_fr"].text
        return pc.if_else(
            french,
            fr.take(pa.array(rng.integers(0, len(fr), count))),
            en.take(pa.array(rng.integers(0, len(en), count))),
        )

    pieces = [pc.if_else(pa.array(length > i), sentence(), None) for i in range(6)]
    closing = pa.array(SENTENCES).take(pa.array(rng.integers(0, len(SENTENCES), count)))
    pieces.append(pc.if_else(pa.array(news), closing, None))
    text = pc.binary_join_element_wise(*pieces, " ", null_handling="skip")
    return Pool(
        text,
        pc.if_else(pa.array(news), sentence(), None),
        np.where(french.to_numpy(zero_copy_only=False), "fr", "en"),
        np.where(news, _NEWS, _SOCIAL).astype(np.int8),
        np.zeros(count),
    )


def _spread(codes: np.ndarray, values: dict[int, np.ndarray], dtype: str) -> np.ndarray:
    """Per-code arrays (in row order within each code) put back in row order."""
    out = np.empty(len(codes), dtype=dtype)
    for code, array in values.items():
        out[codes == code] = array
    return out


def _gather(codes: np.ndarray, build: Callable[[int, np.ndarray], pa.Array]) -> pa.Array:
    """One array built piece by piece, code by code (`build(code, rows)`), back in row order."""
    pieces, order = [], []
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        pieces.append(build(int(code), rows))
        order.append(rows)
    back = np.argsort(np.concatenate(order), kind="stable")
    return pa.concat_arrays(
        [p.combine_chunks() if isinstance(p, pa.ChunkedArray) else p for p in pieces]
    ).take(pa.array(back))


def _choose(codes: np.ndarray, options: list[pa.Array]) -> pa.Array:
    """Row by row, the option its code names (all options are whole-length arrays)."""
    out = options[0]
    for code, option in enumerate(options[1:], start=1):
        out = pc.if_else(pa.array(codes == code), option, out)
    return out


def _when(mask: np.ndarray, values: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), values, "")


def _tokens(rng: np.random.Generator, count: int, length: int, alphabet: str) -> pa.Array:
    """`count` random strings of `length` characters of `alphabet`, without a Python loop."""
    letters = np.array(list(alphabet), dtype="<U1")
    grid = letters[rng.integers(0, len(letters), (count, length))]
    return pa.array(np.ascontiguousarray(grid).view(f"<U{length}").ravel(), pa.string())


def _digits(values: np.ndarray, width: int, alphabet: str) -> pa.Array:
    """`values` written in base len(alphabet), `width` digits: unique when the values are."""
    letters = np.array(list(alphabet), dtype="<U1")
    rest, columns = values.astype(np.int64), []
    for _ in range(width):
        rest, digit = np.divmod(rest, len(alphabet))
        columns.append(letters[digit])
    grid = np.ascontiguousarray(np.stack(columns[::-1], axis=1))
    return pa.array(grid.view(f"<U{width}").ravel(), pa.string())


def _pick_by_lang(
    rng: np.random.Generator, options: list[tuple[str, str, str]], lang: np.ndarray
) -> np.ndarray:
    """An index into `options` per row, among those of the row's language."""
    en = np.array([i for i, o in enumerate(options) if o[2] == "en"])
    fr = np.array([i for i, o in enumerate(options) if o[2] == "fr"])
    n = len(lang)
    return np.where(lang == "fr", fr[rng.integers(0, len(fr), n)], en[rng.integers(0, len(en), n)])


def _ids(
    offset: int,
    source_code: np.ndarray,
    handle: pa.Array,
    bare: pa.Array,
    home: pa.Array,
    site: pa.Array,
    created_h: np.ndarray,
    kind: np.ndarray,
) -> tuple[pa.Array, pa.Array]:
    """(source_id, url) per row as each network writes them; unique by construction per serial."""
    n = len(source_code)
    serial = np.arange(n, dtype=np.int64) + offset
    ms = ((START.timestamp() + created_h * _HOUR) * 1000).astype(np.int64)
    snowflake = pa.array(((ms - 1288834974657) << 22) + serial % (1 << 22)).cast(pa.string())
    tid = _digits(ms * 1000 * 1024 + serial % 1024, 13, "234567abcdefghijklmnopqrstuvwxyz")
    toot = pa.array((ms << 16) + serial % 65536).cast(pa.string())
    base36 = _digits(60_000_000_000 + serial * 37, 7, "0123456789abcdefghijklmnopqrstuvwxyz")
    sub = pa.array(SUBREDDITS).take(pa.array(serial % len(SUBREDDITS)))
    slug = pc.binary_join_element_wise(
        "story-1.", pa.array(7_000_000 + serial).cast(pa.string()), ""
    )
    cat = pc.binary_join_element_wise
    t3 = pa.array(np.where(kind == "reply", "t1_", "t3_"))
    ids = [
        snowflake,
        cat("at://", home, "/app.bsky.feed.post/", tid, ""),
        cat("https://", home, "/users/", bare, "/statuses/", toot, ""),
        cat(t3, base36, ""),
        cat("https://", site, "/", slug, ""),
        cat("https://", site, "/", slug, ""),
    ]
    urls = [
        cat("https://x.com/", bare, "/status/", snowflake, ""),
        cat("https://bsky.app/profile/", handle, "/post/", tid, ""),
        cat("https://", home, "/@", bare, "/", toot, ""),
        cat("https://www.reddit.com/r/", sub, "/comments/", base36, "/", ""),
        ids[4],
        ids[5],
    ]
    return _choose(source_code, ids), _choose(source_code, urls)


def _timestamps(hours: np.ndarray) -> pa.Array:
    micros = ((START.timestamp() + hours * _HOUR) * 1e6).astype(np.int64)
    return pa.array(micros, pa.timestamp("us", tz="UTC"))


def summary(table: pa.Table) -> dict[str, float]:
    """What a generated table holds: shares of each group, copies, distinct story texts."""
    n = table.num_rows
    group = table.column("bench_group").to_numpy(zero_copy_only=False)
    copy = table.column("bench_copy").to_numpy(zero_copy_only=False)
    story = group == "story"
    texts = pc.filter(table.column("text"), pa.array(story))
    lengths = pc.utf8_length(table.column("text")).to_numpy()
    return {
        "posts": n,
        **{f"share_{g}": float((group == g).mean()) for g in GROUPS},
        "story_copied": float((copy[story] != "").mean()) if story.any() else 0.0,
        **{f"story_{k}": float((copy[story] == k).mean()) for k in COPY_KINDS[1:]},
        "story_distinct_texts": float(len(pc.unique(texts)) / max(len(texts), 1)),
        "french": float((table.column("lang").to_numpy(zero_copy_only=False) == "fr").mean()),
        "mean_chars": float(lengths.mean()),
    }
