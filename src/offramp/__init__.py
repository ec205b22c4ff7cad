"""offramp: search interception and anonymous research to prevent online child sexual abuse."""

__version__ = "0.1.0"
