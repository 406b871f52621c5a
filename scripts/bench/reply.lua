-- Replies: POST /v1/questions/{id}/replies by the staff member in $TOKEN over the ids in $QUESTIONS.
local questions = {}
for line in io.lines(os.getenv("QUESTIONS")) do questions[#questions + 1] = line end
local token = os.getenv("TOKEN")
local step = 0
request = function()
    step = step + 1
    local question = questions[(step % #questions) + 1]
    return wrk.format("POST", "/v1/questions/" .. question .. "/replies",
        { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" },
        '{"body":"Please restart the phone with flight mode on, then off again."}')
end
