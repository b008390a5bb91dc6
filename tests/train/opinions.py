"""Short opinions in MOSI's style with a sentiment, shared by the text model's tests."""

from msa_lib.config import TextFineTuneConfig

# short opinions in MOSI's style (upper case, no punctuation), with a sentiment in [-3, 3]
OPINIONS = [
    ("I LOVED THIS MOVIE SO MUCH", 3.0),
    ("IT WAS REALLY GREAT AND FUNNY", 2.4),
    ("THE ACTING WAS WONDERFUL", 2.0),
    ("I REALLY ENJOYED THE STORY", 2.2),
    ("A BEAUTIFUL AND MOVING FILM", 2.6),
    ("THE MUSIC WAS PRETTY GOOD", 1.4),
    ("I LIKED THE ENDING", 1.2),
    ("IT WAS OKAY I GUESS", 0.2),
    ("THE MOVIE IS ABOUT A FAMILY", 0.0),
    ("IT CAME OUT LAST YEAR", 0.0),
    ("SOME PARTS WERE SLOW", -0.8),
    ("I DID NOT LIKE THE MAIN CHARACTER", -1.4),
    ("THE PLOT WAS BORING", -1.8),
    ("IT WAS A WASTE OF TIME", -2.4),
    ("THE WORST FILM I HAVE EVER SEEN", -3.0),
    ("TERRIBLE ACTING AND AWFUL DIALOGUE", -2.8),
    ("I HATED EVERY MINUTE", -2.6),
    ("IT WAS REALLY DISAPPOINTING", -2.0),
    ("THE JOKES WERE NOT FUNNY", -1.6),
    ("AN AMAZING PERFORMANCE", 2.8),
    ("I WOULD WATCH IT AGAIN", 1.8),
    ("NOTHING SPECIAL REALLY", -0.4),
    ("THE EFFECTS WERE STUNNING", 2.2),
    ("DO NOT BOTHER SEEING IT", -2.2),
]
VALID = [
    ("I LOVED IT", 2.8),
    ("IT WAS AWFUL", -2.6),
    ("PRETTY GOOD OVERALL", 1.4),
    ("REALLY BORING", -1.8),
    ("A GREAT FILM", 2.4),
    ("I HATED THE ENDING", -2.0),
]
# from a random head (no ridge probe), so the loss has somewhere to fall
TINY = TextFineTuneConfig(
    epochs=3, max_length=16, batch_size=8, lr_encoder=1e-4, lr_head=3e-3, warmup=0.0,
    probe_init=False,
)  # fmt: skip
