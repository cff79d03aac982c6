"""What the app does so that no child, family or person can be recognised: identity.py refuses identity
numbers, phone numbers and e-mail addresses in free text; masking.py keeps small counts from being shown."""
