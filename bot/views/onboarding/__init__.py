"""Onboarding messages and modals: pure builders of Block Kit objects in one language."""
