"""Generated run names in the adjective-noun-NNN style users know from MLflow."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "able amber brave bright calm clever cool crisp daring eager fair fancy fast gentle "
    "glad golden grand happy honest jolly keen kind lively lucky merry mighty neat nimble "
    "noble polite proud quick quiet rare rapid shiny silent smart snappy solid steady "
    "sunny swift tidy upbeat vivid warm wise witty zesty"
).split()
_NOUNS = (
    "ant bass bat bear bee bird boar carp cat colt crab crane deer dog dove duck eel "
    "elk finch fish fly fox frog goat goose hare hawk hen horse jay koala lamb lark "
    "lion lynx mole moth mouse newt owl ox panda pig pug ram rat robin seal shrew "
    "slug snail swan tern toad trout vole wasp whale wolf worm wren yak zebra"
).split()


def generate_run_name(rng: random.Random | None = None) -> str:
    """Return a readable name like ``swift-owl-042``."""
    r = rng or random
    return f"{r.choice(_ADJECTIVES)}-{r.choice(_NOUNS)}-{r.randrange(1000):03d}"
