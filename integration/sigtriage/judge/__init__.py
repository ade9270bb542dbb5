"""Pure judgement of the facts and evidence: findings and a verdict, no I/O."""
