from django.apps import AppConfig


class NodeConfig(AppConfig):
    name = "steadfast.continuity.node"
    label = "node"
    verbose_name = "Practice node"
