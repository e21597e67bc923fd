; An error names the line, the column and what was expected.
r0 = 0
w1 += r2
exit
