"""The embedded demo corpus: small, deterministic, and built so that personal context helps.

Every user writes about a few topics of their own (real English topic words, so that dense encoders
can tell topics apart). A document opens with sentences on its topic (the title and the opening are
the immediate context x_t); the rest is in the user's voice: their favourite words, a recurring
signature phrase, a sign-off, and sentences re-used from their earlier documents on the same topic.
The immediate context tells a model the topic but not the voice; the user's past documents show
both, and which past documents matter is visible from the title and the opening.
"""

from __future__ import annotations

import random
from typing import Iterator

from personalize.corpus.document import Document

_TOPICS: dict[str, tuple[str, ...]] = {
    "baking": tuple("flour oven dough yeast butter sugar crust loaf pastry whisk icing batter".split()),
    "hiking": tuple("trail summit boots ridge canyon compass backpack meadow pine glacier map tent".split()),
    "gardening": tuple("tomato soil compost seedling shovel hose tulip mulch weeds fence basil greenhouse".split()),
    "cycling": tuple("bicycle pedal helmet chain saddle gear tire sprint climb spokes brake jersey".split()),
    "astronomy": tuple("telescope comet galaxy nebula orbit planet eclipse meteor crater lens moon star".split()),
    "chess": tuple("bishop knight rook pawn gambit checkmate castle opening endgame queen board clock".split()),
    "photography": tuple("camera shutter aperture tripod portrait lens exposure flash studio sunset film print".split()),
    "sailing": tuple("boat harbor anchor sail mast wind tide dock rope keel compass island".split()),
    "coffee": tuple("espresso bean grinder roast mug crema barista kettle filter latte aroma cafe".split()),
    "jazz": tuple("saxophone trumpet chord melody rhythm drummer club solo piano bass swing improv".split()),
    "football": tuple("goal striker referee stadium match penalty keeper league pitch coach season whistle".split()),
    "painting": tuple("canvas brush easel palette watercolor sketch portrait gallery frame oil pigment studio".split()),
    "fishing": tuple("lake rod bait trout reel river hook boat net salmon bank pier".split()),
    "cooking": tuple("skillet garlic onion pepper sauce simmer recipe spice knife broth herbs pan".split()),
    "running": tuple("marathon sneakers pace finish track stopwatch stretch race mile sprint hill medal".split()),
    "birdwatching": tuple("binoculars sparrow heron feather nest owl robin hawk marsh migration song wren".split()),
    "knitting": tuple("yarn needle scarf sweater wool stitch pattern mitten loop cardigan skein blanket".split()),
    "camping": tuple("campfire lantern sleeping tent marshmallow firewood cooler stream stars cabin axe grill".split()),
    "woodworking": tuple("chisel plank sawdust lathe varnish drill clamp oak bench joint sander cabinet".split()),
    "travel": tuple("passport airport luggage hotel ticket train museum map suitcase border tour beach".split()),
    "music": tuple("guitar concert album lyrics stage amplifier song band chorus tempo vinyl record".split()),
    "cinema": tuple("film director actor screen popcorn premiere scene script trailer festival camera sequel".split()),
    "robotics": tuple("sensor motor circuit servo battery arduino gripper wheel code prototype laser robot".split()),
    "skiing": tuple("slope snow lift powder goggles pole lodge avalanche chalet downhill skis resort".split()),
    "history": tuple("empire castle archive treaty dynasty battle manuscript ruins king museum war map".split()),
    "beekeeping": tuple("hive honey queen comb smoker pollen nectar swarm wax frame colony bloom".split()),
    "climbing": tuple("rope harness boulder carabiner chalk crag belay summit ledge anchor grip wall".split()),
    "poetry": tuple("verse rhyme stanza sonnet metaphor ink notebook reading haiku meter line muse".split()),
    "pottery": tuple("clay kiln wheel glaze vase bowl studio mug slip firing sculpt pot".split()),
    "surfing": tuple("wave board wetsuit swell reef beach tide wax shore barrel paddle foam".split()),
}
# Words a user favours whatever the topic (their "voice"), drawn per user from this list.
_VOICE_WORDS = tuple("maple lavender copper violet marble cedar amber willow falcon ember juniper breeze silver thistle cobalt lotus saffron indigo rowan aspen tiny lovely quiet brave gentle bright old wild fresh".split())
VERSION = 2  # part of the experiment's artifact keys: a changed generator is a new prepared dataset
OPENING_SENTENCES = 4  # longer than the first 150 characters: the immediate context x_t
_ONSETS = ["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "br", "cl", "st", "tr", "gr", "pl"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
_CODAS = ["", "n", "r", "s", "t", "l", "nd", "rk", "st"]
_FUNCTION = ["the", "a", "my", "our", "this", "that", "every", "some"]
_LINKS = ["with", "after", "before", "near", "about", "without", "during", "beside"]
_VERBS = ["likes", "needs", "finds", "keeps", "brings", "makes", "takes", "shows", "builds", "fixes"]


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables))


def _voiced_sentence(rng: random.Random, *, topic_words: list[str], voice_words: list[str]) -> str:
    """A sentence in the user's voice: two of its three content words are the user's favourites."""
    subject, extra = rng.sample(voice_words, 2)
    text = (f"{rng.choice(_FUNCTION)} {subject} {rng.choice(_VERBS)} {rng.choice(_FUNCTION)} "
            f"{rng.choice(topic_words)} {rng.choice(_LINKS)} {extra}")
    return text[0].upper() + text[1:] + "."


def _sentence(rng: random.Random, words: list[str]) -> str:
    subject, obj, extra = rng.sample(words, 3)
    text = f"{rng.choice(_FUNCTION)} {subject} {rng.choice(_VERBS)} {rng.choice(_FUNCTION)} {obj} {rng.choice(_LINKS)} {extra}"
    return text[0].upper() + text[1:] + "."


def generate_demo_corpus(
    *,
    num_users: int = 40,
    documents_per_user: tuple[int, int] = (14, 22),
    num_topics: int = 30,
    topics_per_user: int = 3,
    reuse_probability: float = 0.6,
    seed: int = 0,
) -> Iterator[Document]:
    """Yields documents of `num_users` users, the same ones for the same arguments."""
    if not 1 <= num_topics <= len(_TOPICS):
        raise ValueError(f"num_topics must be between 1 and {len(_TOPICS)}, got {num_topics}")
    topics = [{"name": name, "words": list(words)} for name, words in list(_TOPICS.items())[:num_topics]]
    start = 1_104_537_600.0  # 2005-01-01
    for user_index in range(num_users):
        user_rng = random.Random(f"{seed}:{user_index}")
        user_id = f"user{user_index:03d}"
        own_topics = user_rng.sample(topics, topics_per_user)
        user_words = user_rng.sample(_VOICE_WORDS, 6)
        signatures = [" ".join(_word(user_rng, user_rng.choice([1, 2])) for _ in range(5)).capitalize() + "." for _ in range(3)]
        sign_off = f"Cheers, {_word(user_rng, 2).capitalize()}"
        past_sentences: dict[str, list[str]] = {topic["name"]: [] for topic in own_topics}
        timestamp = start + user_rng.uniform(0, 86_400 * 30)
        for doc_index in range(user_rng.randint(*documents_per_user)):
            topic = user_rng.choice(own_topics)
            # The opening (what x_t shows) names the topic; the voice is in the rest and in past documents.
            openings = [_sentence(user_rng, topic["words"]) for _ in range(OPENING_SENTENCES)]
            voiced = [_voiced_sentence(user_rng, topic_words=topic["words"], voice_words=user_words)
                      for _ in range(user_rng.randint(1, 3))]
            pool = past_sentences[topic["name"]]
            reused = [s for s in pool if user_rng.random() < reuse_probability][:6]
            sentences = openings + reused + voiced
            sentences.insert(user_rng.randint(OPENING_SENTENCES, len(sentences)), user_rng.choice(signatures))
            pool.extend(voiced)
            body = " ".join(sentences) + f" {sign_off}"
            title = f"{topic['name'].capitalize()} {user_rng.choice(topic['words'])}"
            timestamp += user_rng.uniform(3_600, 86_400 * 10)
            yield Document(
                user_id=user_id,
                doc_id=f"{user_id}-{doc_index:03d}",
                timestamp=round(timestamp),
                body=body,
                title=title,
                metadata={"topic": topic["name"]},
            )
