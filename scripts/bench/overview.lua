-- The staff console's overview: GET /console with the session cookie in $SESSION.
local session = os.getenv("SESSION")
request = function()
    return wrk.format("GET", "/console", { ["Cookie"] = "paten_session=" .. session })
end
