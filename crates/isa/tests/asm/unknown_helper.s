; load: socket
; A helper id beyond the table prints as `unknown`.
call 300
exit
