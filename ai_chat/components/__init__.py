"""UI pieces: functions of state vars."""
