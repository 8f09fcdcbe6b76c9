# -*- coding: utf-8 -*-
# Copyright: qi.convergence contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Progress lines of the controller-side actions, live on the terminal."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.utils.display import Display

display = Display()


def progress(line):
    """Show one progress line. stderr: stdout belongs to the callback (a JSON callback's output must stay
    parseable). A terminal that went away (a killed run) must not stop the work, or the rollback that follows."""
    try:
        display.display("    %s" % line, stderr=True)
    except (IOError, OSError):
        pass
