-- A small rated world for the recommender tests (tests/lua/rec_*.lua): users 1..40 rate 10
-- of 30 items (3 genres of 10): 8 of their genre, rated 4-5, and 2 others, mostly rated 1-2.
-- A fixed LCG from `seed`, so the same world on every run.
return function(rec, seed)
  local rnd = seed
  local function rand(n) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n end
  local users, items, values = {}, {}, {}
  for u = 1, 40 do
    local g, seen, n = (u - 1) % 3, {}, 0
    while n < 10 do
      local i = n < 8 and g * 10 + rand(10) + 1 or rand(30) + 1
      if not seen[i] then
        seen[i], n = true, n + 1
        users[#users + 1], items[#items + 1] = u, i
        values[#values + 1] = (i - 1) // 10 == g and 4 + rand(2) or 1 + rand(2)
      end
    end
  end
  return rec.interactions{users = users, items = items, values = values}
end
