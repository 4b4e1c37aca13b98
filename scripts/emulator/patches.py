"""Small fixes to moto's behaviour or speed that reclaw's tests and benchmark need."""

import json


def apply():
    from moto.iam.models import IAMBackend

    original = IAMBackend.get_account_authorization_details

    def get_account_authorization_details(self, policy_filter):
        # moto computes a set difference over all ~1200 AWS managed policies on every call, even
        # when the filter asks for roles only: a second per call. Skip it when no policy is asked for.
        if policy_filter and not {"AWSManagedPolicy", "LocalManagedPolicy"} & set(policy_filter):
            return {
                "instance_profiles": self.instance_profiles.values(),
                "roles": self.roles.values() if "Role" in policy_filter else [],
                "groups": self.groups.values() if "Group" in policy_filter else [],
                "users": self.users.values() if "User" in policy_filter else [],
                "managed_policies": [],
            }
        return original(self, policy_filter)

    IAMBackend.get_account_authorization_details = get_account_authorization_details

    # moto's default input template for rule targets drops the event's "account" (and puts "detail"
    # before the other fields are filled in): targets get the event as AWS sends it, account included.
    from moto.events.utils import EventTemplateParser

    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )
    EventTemplateParser.DEFAULT_EVENT_INPUT_PATHS_MAP = {
        "account": "$.account",
        "detail-type": "$.detail-type",
        "source": "$.source",
        "id": "$.id",
        "region": "$.region",
        "resources": "$.resources",
        "time": "$.time",
        "detail": "$.detail",
    }
    apply_jsonpath_cache()
    apply_instance_profile_replacement()
    apply_tag_lookup_by_id()
    apply_sqs_retention_check()
    apply_sqs_message_counts()
    apply_describe_parameters_pages()
    apply_tagging_resource_pages()


def apply_jsonpath_cache():
    """moto fills each rule target's input template with eight JSONPath expressions, and
    jsonpath_ng builds a new yacc parser for every one: about a second per event and target, so
    CloudTrail's events reached queues minutes late. The parsed expressions are read-only: keep them."""
    import functools

    import jsonpath_ng.ext

    if not hasattr(jsonpath_ng.ext.parse, "cache_info"):
        jsonpath_ng.ext.parse = functools.lru_cache(maxsize=256)(jsonpath_ng.ext.parse)


def apply_instance_profile_replacement():
    """moto's ReplaceIamInstanceProfileAssociation changes the association but not the instance:
    DescribeInstances kept showing the old profile. AWS shows the new one."""
    from moto.ec2.models.iam_instance_profile import IamInstanceProfileAssociationBackend

    original = IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association

    def replace_iam_instance_profile_association(self, association_id, iam_instance_profile_name=None, iam_instance_profile_arn=None):
        association = original(self, association_id, iam_instance_profile_name, iam_instance_profile_arn)
        self.modify_instance_attribute(
            association.instance_id, "iam_instance_profile", {"Arn": association.iam_instance_profile.arn, "Id": association.association_id}
        )
        return association

    IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association = replace_iam_instance_profile_association


def apply_tag_lookup_by_id():
    """moto reads an EC2 resource's tags (for every resource a Describe call lists or filters, and
    for every tag filter) by scanning the tags of every resource in the region: a Describe grew
    with the square of the resources, and a fleet of 1000 deployments slowed the emulator to a
    crawl. A filter on one literal resource id (what a resource asks for its own tags) is a
    lookup in the same dict: same tags, same order, same shape."""
    from moto.ec2.models.tags import TagBackend
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    original = TagBackend.describe_tags

    def describe_tags(self, filters=None):
        ids = filters.get("resource-id") if filters and len(filters) == 1 else None
        if not ids or len(ids) != 1 or not isinstance(ids[0], str) or any(c in ids[0] for c in "*?[\\"):
            return original(self, filters)
        resource_id = ids[0]
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [{"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
                for key, value in list(self.tags.get(resource_id, {}).items())]

    TagBackend.describe_tags = describe_tags


def apply_sqs_retention_check():
    """moto checks each message it hands out against the queue's retention period by computing all
    of the queue's attributes, three of which count its messages: a receive cost the square of the
    messages waiting. Read the retention period alone; the check is the same."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self, queue_name, message):
        retention_period = self.get_queue(queue_name).message_retention_period
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period


def apply_sqs_message_counts():
    """moto counts a queue's messages (visible, in flight, delayed) whenever it reads the queue's
    attributes, which every SendMessage does, reading the clock through two datetime conversions
    per message and count: with thousands of CloudTrail events waiting, each event sent cost tens
    of milliseconds under the emulator's lock. Each count reads the clock once; what is counted,
    and what a receive sees, are the same."""
    from moto.core.utils import unix_time_millis
    from moto.sqs.models import Queue

    def messages(self):
        now = unix_time_millis()
        return [m for m in self._messages if now > m.visible_at and not now < m.delayed_until]

    def delayed(self):
        now = unix_time_millis()
        return sum(1 for m in self._messages if now < m.delayed_until)

    def not_visible(self):
        now = unix_time_millis()
        return sum(1 for m in self._messages if not now > m.visible_at)

    Queue.messages = property(messages)
    Queue.approximate_number_of_messages_delayed = property(delayed)
    Queue.approximate_number_of_messages_not_visible = property(not_visible)



def apply_describe_parameters_pages():
    """moto's DescribeParameters ignores MaxResults (ten a page, whatever is asked) and returns each
    parameter's value. AWS takes MaxResults up to 50 (a ValidationException above) and never returns
    a value there: values come from GetParameter(s) alone."""
    from moto.core.responses import ActionResult
    from moto.ssm.exceptions import ValidationException
    from moto.ssm.responses import SimpleSystemManagerResponse

    def describe_parameters(self):
        asked = self._get_param("MaxResults")
        if asked is not None and not 1 <= int(asked) <= 50:
            raise ValidationException(
                f"1 validation error detected: Value '{asked}' at 'maxResults' failed to satisfy constraint: "
                "Member must have value less than or equal to 50")
        size = int(asked) if asked is not None else 10
        token = self._get_param("NextToken")
        start = int(token.strip()) if isinstance(token, str) and token.strip() else 0
        found = self.ssm_backend.describe_parameters(self._get_param("Filters"), self._get_param("ParameterFilters"))
        listed = []
        for parameter in found[start:start + size]:
            item = parameter.describe_response_object(False)
            item.pop("Value", None)
            listed.append(item)
        response = {"Parameters": listed}
        if start + size < len(found):
            response["NextToken"] = str(start + size)
        return ActionResult(response)

    SimpleSystemManagerResponse.describe_parameters = describe_parameters


def apply_tagging_resource_pages():
    """moto pages GetResources by tags as well as by resources, 100 tags a page when TagsPerPage is
    not given: a page held 33 parameters with reclaw's three tags although ResourcesPerPage asked
    for 100. AWS pages by the one limit the caller chose (it recommends ResourcesPerPage)."""
    from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

    original = ResourceGroupsTaggingAPIResponse.get_resources

    def get_resources(self):
        if self._get_param("ResourcesPerPage") is None or self._get_param("TagsPerPage") is not None:
            return original(self)
        token, mappings = self.backend.get_resources(
            pagination_token=self._get_param("PaginationToken"), tag_filters=self._get_param("TagFilters", []),
            resources_per_page=self._get_int_param("ResourcesPerPage"), tags_per_page=10**9,
            resource_type_filters=self._get_param("ResourceTypeFilters", []))
        return json.dumps({"ResourceTagMappingList": mappings, "PaginationToken": token})

    ResourceGroupsTaggingAPIResponse.get_resources = get_resources
