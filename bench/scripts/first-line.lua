-- Start-up probe: the first line a script runs.
io.write("ready\n")
