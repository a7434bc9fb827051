-- Get a platform token and exit (compare: node/token.js).
local azure = require "azure"
local token = azure.token()
io.write(token.source, "\n")
