"""Signals: how a lower domain tells a higher one that something happened, without importing it.

Events know nothing of competence, yet marking attendance at a kurs gives each attendee a training record.
events.operations sends `attendance_marked`; competence.operations connects its receiver when it is loaded
(create_app loads every domain through its blueprint). Receivers are called synchronously, with the sender's
session: they write in the same transaction, and one that raises rolls the whole change back, as a direct
call would. A new signal: name what happened (past tense) and list the arguments the receivers get.
"""

from blinker import Namespace

_signals = Namespace()

# events.operations.mark_attendance, sender: the Event. Arguments: session, actor_id, newly_attended and
# unattended (the registrations whose mark changed to attended or back).
attendance_marked = _signals.signal("attendance-marked")
