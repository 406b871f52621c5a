-- Claims under contention: every thread walks the same list of question ids ($QUESTIONS, one per line), sending
-- one claim per volunteer token ($TOKENS, one per line) for each question before moving to the next, so each
-- question is claimed by every connection at about the same moment. Exactly one claim per question may win.
local questions, tokens = {}, {}
for line in io.lines(os.getenv("QUESTIONS")) do questions[#questions + 1] = line end
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local step = 0
request = function()
    step = step + 1
    local token = tokens[(step % #tokens) + 1]
    local question = questions[(math.floor(step / #tokens) % #questions) + 1]
    return wrk.format("POST", "/v1/questions/" .. question .. "/claim", { ["Authorization"] = "Bearer " .. token })
end
