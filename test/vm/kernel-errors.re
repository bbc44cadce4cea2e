BUG:
WARNING:
Oops
Call Trace
Busy inodes
KASAN
UBSAN
general protection
hung_task
blocked for more than
INFO: task
lockdep
possible circular locking
inconsistent lock state
kernel BUG at
Kernel panic
soft lockup
detected stall
list_(add|del) corruption
