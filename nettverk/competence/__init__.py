"""Competence areas, people's competence records, the base matrix, search and expiring certifications."""
