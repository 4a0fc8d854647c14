"""rlkit agents (imported as rlkit.agents): name -> class and config schemas, read by the composition root."""

from rlkit.agents.char_rnn import CharRNNAgent, CharRNNConfig
from rlkit.agents.dqn import DQNAgent, DQNConfig
from rlkit.agents.reinforce import ReinforceAgent, ReinforceConfig
from rlkit.agents.sb3 import SB3Config, sb3_agent
from rlkit.agents.supervised import SupervisedAgent, SupervisedConfig
from rlkit.agents.tabular import TabularAgent, TabularConfig
from rlkit.agents.word2vec import Word2VecAgent, Word2VecConfig

# Agent name (the `agent=` CLI token and the config's `name`) -> class built as Class(cfg, ctx).
AGENTS = {
    "q_learning": TabularAgent,
    "dqn": DQNAgent,
    "sarsa": TabularAgent,
    "expected_sarsa": TabularAgent,
    "reinforce": ReinforceAgent,
    "softmax_regression": SupervisedAgent,
    "mnist_cnn": SupervisedAgent,
    "lstm_classifier": SupervisedAgent,
    "char_rnn": CharRNNAgent,
    "ar_forecaster": SupervisedAgent,
    "lstm_forecaster": SupervisedAgent,
    "cifar_cnn": SupervisedAgent,
    "word2vec": Word2VecAgent,
    "sb3": sb3_agent,  # a factory: the on- or off-policy adapter for agent.algo
    "sb3_ppo": sb3_agent,
    "sb3_a2c": sb3_agent,
    "sb3_dqn": sb3_agent,
}

# Schema name (listed first in each agent YAML's defaults, as `<name>_schema`) -> dataclass.
SCHEMAS = {
    "tabular": TabularConfig,
    "dqn": DQNConfig,
    "reinforce": ReinforceConfig,
    "supervised": SupervisedConfig,
    "char_rnn": CharRNNConfig,
    "word2vec": Word2VecConfig,
    "sb3": SB3Config,
}

__all__ = ["AGENTS", "SCHEMAS"]
