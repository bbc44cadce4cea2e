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
possible circular locking
inconsistent lock state
kernel BUG at
Kernel panic
soft lockup
detected stall
list_(add|del) corruption
DEBUG_LOCKS_WARN_ON
turning off the locking correctness validator
ODEBUG:
KFENCE:
kmemleak: [0-9]+ new suspected
