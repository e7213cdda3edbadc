# Every ARN the module and the sample workflow build, in a foreign partition: aws-cn is a mocked
# world whose data sources and resources all answer in that partition, so a string that hard-codes
# "aws" (or reads it from the wrong place) shows up as a foreign partition. One foreign partition
# is enough here, as every ARN takes its partition from data "aws_partition" or from another ARN;
# the one per-partition table, the console domain, is checked for aws, aws-cn and aws-us-gov in
# tests/test_partitions.py, which plans against the real provider in a region of each partition
# (where ARNs of resources not yet created are unknown, hence this file).

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

mock_provider "aws" {
  alias           = "china"
  override_during = plan

  mock_data "aws_partition" {
    defaults = { partition = "aws-cn" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:mocked" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws-cn:iam::123456789012:role/mocked" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws-cn:logs:cn-north-1:123456789012:log-group:mocked" }
  }
  mock_resource "aws_ssm_parameter" {
    defaults = { arn = "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/mocked" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws-cn:sns:cn-north-1:123456789012:mocked" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws-cn:kms:cn-north-1:123456789012:key/mocked" }
  }
  mock_resource "aws_glue_catalog_database" {
    defaults = { arn = "arn:aws-cn:glue:cn-north-1:123456789012:database/mocked" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { id = "mocked-bucket", arn = "arn:aws-cn:s3:::mocked-bucket" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws-cn:dynamodb:cn-north-1:123456789012:table/mocked" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws-cn:events:cn-north-1:123456789012:rule/mocked" }
  }
}

# Everything that builds an ARN: the sample workflow, events mode, a created topic with its key.
variables {
  name                   = "nightly-sales-loop"
  create_sample_workflow = true
  completion_mode        = "events"
  create_sns_topic       = true
  create_alarm           = true
}

run "aws_cn_every_arn_and_the_console_link_are_in_aws_cn" {
  command = plan

  providers = {
    aws = aws.china
  }

  assert {
    condition     = output.glue_workflow_arn == "arn:aws-cn:glue:cn-north-1:123456789012:workflow/nightly-sales-loop"
    error_message = "The workflow ARN must be built in the state machine's partition."
  }

  assert {
    condition = [
      for definition in [aws_sfn_state_machine.this[0].definition, aws_sfn_state_machine.callback[0].definition] :
      distinct([for state in values(jsondecode(definition).States) : regex("^arn:[^:]+:states:::", state.Resource) if contains(keys(state), "Resource")])
    ] == [tolist(["arn:aws-cn:states:::"]), tolist(["arn:aws-cn:states:::"])]
    error_message = "Every service integration of the loop and the callback must be an aws-cn ARN."
  }

  assert {
    condition = [
      for definition in [aws_sfn_state_machine.this[0].definition, aws_sfn_state_machine.callback[0].definition] :
      distinct(flatten(regexall("arn:([a-z-]+):", definition)))
    ] == [tolist(["aws-cn"]), tolist(["aws-cn"])]
    error_message = "No ARN in the definitions may name another partition than aws-cn."
  }

  assert {
    condition     = strcontains(aws_sfn_state_machine.this[0].definition, "https://console.amazonaws.cn/states/home?region=") && !strcontains(aws_sfn_state_machine.this[0].definition, "console.aws.amazon.com")
    error_message = "The console link must lead to the China console (console.amazonaws.cn)."
  }

  assert {
    condition = distinct([
      for arn in flatten([
        for document in [
          data.aws_iam_policy_document.loop[0], data.aws_iam_policy_document.callback[0], data.aws_iam_policy_document.events[0],
          data.aws_iam_policy_document.sns_kms_key[0], data.aws_iam_policy_document.assume_role["loop"],
          data.aws_iam_policy_document.assume_role["callback"], data.aws_iam_policy_document.events_assume_role[0],
          ] : [
          for statement in document.statement : concat(
            statement.resources == null ? [] : tolist(statement.resources),
            flatten([for principal in statement.principals : tolist(principal.identifiers)]),
            flatten([for condition in statement.condition : condition.values]),
          )
        ]
      ]) : split(":", arn)[1] if startswith(arn, "arn:")
    ]) == tolist(["aws-cn"])
    error_message = "Every ARN in every policy the module writes (resources, principals, trust conditions) must be in aws-cn."
  }

  assert {
    condition = [for statement in data.aws_iam_policy_document.assume_role["loop"].statement : [for condition in statement.condition : condition.values if condition.variable == "aws:SourceArn"]] == [[
      tolist(["arn:aws-cn:states:*:123456789012:stateMachine:nightly-sales-loop"]),
    ]]
    error_message = "The loop's trust condition must name its state machine by an aws-cn ARN."
  }
}

# The sample workflow builds its Glue, logs and S3 ARNs from its catalog database's ARN.

run "sample_workflow_builds_every_arn_in_aws_cn" {
  command = plan

  providers = {
    aws = aws.china
  }

  module {
    source = "./modules/sample-glue-workflow"
  }

  variables {
    name = "retail-sample"
  }

  assert {
    condition = distinct(flatten([
      for document in [data.aws_iam_policy_document.glue[0], data.aws_iam_policy_document.bucket[0]] :
      [for statement in document.statement : [for arn in statement.resources : split(":", arn)[1]]]
    ])) == tolist(["aws-cn"])
    error_message = "Every resource ARN in the sample's role and bucket policies must be in aws-cn."
  }

  assert {
    condition = [for statement in data.aws_iam_policy_document.glue[0].statement : statement.resources if statement.sid == "WriteGlueLogs"] == [
      toset(["arn:aws-cn:logs:cn-north-1:123456789012:log-group:/aws-glue/*"]),
    ]
    error_message = "The Glue log groups must be named by an aws-cn ARN in the database's region and account."
  }
}

run "sample_workflow_role_trusts_glue_only_for_this_account" {
  command = plan

  module {
    source = "./modules/sample-glue-workflow"
  }

  variables {
    name = "retail-sample"
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.glue_assume_role[0].statement : sort([for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"])
    ] == [tolist(["StringEqualsIfExists aws:SourceAccount 123456789012"])]
    error_message = "Glue may assume the sample's role only for this account whenever it names the account (confused deputy guard)."
  }
}
