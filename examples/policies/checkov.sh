#!/bin/sh
# checkov's AWS checks on the plan reclaw is about to apply:
#   CKV_AWS_24  no security group admits SSH (port 22) from 0.0.0.0/0
#   CKV_AWS_79  instances require IMDSv2 (metadata_options[0].http_tokens = required)
#   CKV_AWS_8   instances' block devices are encrypted (root_block_device[0].encrypted)
# --skip-download: no call to Prisma Cloud for guidelines (it fails without internet access and
# fills standard error with a traceback).
#
#   reclaw run ... --policy-command 'sh examples/policies/checkov.sh'
#   reclaw plan --json > plan.json && RECLAW_PLAN_JSON=plan.json sh examples/policies/checkov.sh
exec checkov -f "$RECLAW_PLAN_JSON" --framework terraform_plan --check CKV_AWS_24,CKV_AWS_79,CKV_AWS_8 --quiet --compact --skip-download
