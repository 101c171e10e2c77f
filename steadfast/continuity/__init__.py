"""Continuity: keeping care going when the central system or the network fails."""
