"""One Terraform stack per environment, named after its file."""
