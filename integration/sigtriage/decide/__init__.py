"""Pure decision: (assessment or failure, playbook, inputs) -> Decision with a trace. No I/O."""
