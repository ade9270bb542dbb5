"""sigtriage: decides whether a Windows binary that ran on an endpoint is signed in a way that deserves trust."""

__version__ = "0.1.0"
