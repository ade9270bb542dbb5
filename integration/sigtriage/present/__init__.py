"""Pure rendering of reports: terminal tables, JSON documents. Reads only the model."""
