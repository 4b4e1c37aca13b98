# A conftest-style policy over reclaw's plan JSON (docs/plan-json.md), written as it would be for
# `terraform show -json`: it reads only Terraform's fields and the AWS provider's attribute names.
#
#   conftest test --policy examples/policies "$RECLAW_PLAN_JSON"
#   reclaw run ... --policy-command 'conftest test --policy examples/policies "$RECLAW_PLAN_JSON"'
package main

import rego.v1

# A rule that admits tcp/22: all protocols, or a port range around 22.
admits_ssh(rule) if rule.protocol == "-1"

admits_ssh(rule) if {
	rule.protocol in {"tcp", "6"}
	rule.from_port <= 22
	rule.to_port >= 22
}

world := {"0.0.0.0/0", "::/0"}

# Resources as the plan leaves them (deletions have no `after`).
planned contains rc if {
	some rc in input.resource_changes
	rc.change.after != null
}

deny contains msg if {
	some rc in planned
	rc.type == "aws_security_group"
	some rule in rc.change.after.ingress
	admits_ssh(rule)
	some cidr in array.concat(rule.cidr_blocks, rule.ipv6_cidr_blocks)
	cidr in world
	msg := sprintf("%s opens SSH (port 22) to %s", [rc.address, cidr])
}

deny contains msg if {
	some rc in planned
	rc.type == "aws_instance"
	some options in rc.change.after.metadata_options
	options.http_tokens != "required"
	msg := sprintf("%s does not require IMDSv2 (metadata_options.http_tokens is %v)", [rc.address, options.http_tokens])
}

deny contains msg if {
	some rc in planned
	rc.type == "aws_instance"
	some device in rc.change.after.root_block_device
	device.encrypted != true
	msg := sprintf("%s has an unencrypted root volume", [rc.address])
}
