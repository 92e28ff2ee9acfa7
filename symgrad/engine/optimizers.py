"""Every optimizer by its torch name: what a spec's [optimizer] type and derive(optimizer=...) take."""

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optim import SGD, Optimizer
from .rmsprop import RMSprop

OPTIMIZERS = {cls.type_name: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}

__all__ = ["OPTIMIZERS", "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]
