"""Fine-tuning data: formats and one representation, validation, chat templates and loss masks, SFT signals
and filters, selection (IFD, k-center), and synthetic generation through OpenAI-compatible servers."""
