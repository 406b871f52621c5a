-- Queue listing: GET /v1/queue (the 50 best questions for the volunteer in $TOKEN).
local token = os.getenv("TOKEN")
request = function()
    return wrk.format("GET", "/v1/queue", { ["Authorization"] = "Bearer " .. token })
end
