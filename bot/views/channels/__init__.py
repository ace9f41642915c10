"""Channel messages and modals: pure builders of Block Kit objects in one language, one
module per flow."""
