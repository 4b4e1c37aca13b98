"""Small fixes to moto's behaviour or speed that reclaw's tests and benchmark need."""


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
