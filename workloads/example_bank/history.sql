-- the last ten movements of an account, newest first
SELECT id, from_id, to_id, amount, created_at
FROM bank_transfers
WHERE from_id = $1 OR to_id = $1
ORDER BY created_at DESC
LIMIT 10
