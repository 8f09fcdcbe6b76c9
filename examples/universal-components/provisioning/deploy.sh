#!/bin/bash
# How the VM was provisioned, one playbook per component, in this order (qi.convergence reads the order and the
# tags from these lines: the database, its data, then the services that read it).

set -e

# Retrieve Ansible roles
sudo ansible-galaxy install -fr /home/vagrant/sync/provisioning/requirements.yml

# Install CouchDB
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/provisioning/couchdb.yml --tags="install,configure,deploy"

# Load the preference sets
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/provisioning/data-loader.yml --tags="install,configure,deploy"

# Install Preferences Server
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/provisioning/preferences-server.yml --tags="install,configure,deploy"

# Install Flow Manager
sudo PYTHONUNBUFFERED=1 ansible-playbook /home/vagrant/sync/provisioning/flow-manager.yml --tags="install,configure,deploy"
